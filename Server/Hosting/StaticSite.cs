using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

namespace SocketIoSignal.Hosting;

/// <summary>
/// The codelab's static files, as node-static served them but guarded (see <see cref="SafeFileProvider"/>),
/// plus the seed's bonus 3: <c>/foo</c> serves the page and answers its room prompt with "foo".
/// </summary>
public static class StaticSite
{
    public const string RoomScriptPath = "/_signal/room-from-path.js";

    /// <summary>Makes the page's prompt("Enter room name:") answer with the room named by the URL path.</summary>
    private const string RoomScript = """
        (function () {
          var room = decodeURIComponent(location.pathname.replace(/^\/+|\/+$/g, ''));
          if (!room) { return; }
          var ask = window.prompt;
          window.prompt = function (message) {
            return /room/i.test(String(message)) ? room : ask.apply(window, arguments);
          };
        })();

        """;

    public static void UseCodelabStaticFiles(this WebApplication app, string root)
    {
        var files = new SafeFileProvider(root);
        app.Use((context, next) =>
        {
            // Reject what no file name contains before any file system look-up.
            var raw = context.Request.Path.Value ?? "";
            if (raw.Contains('\0') || raw.Contains('\\') || !SafeFileProvider.IsSafe(raw))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }
            context.Response.Headers.XContentTypeOptions = "nosniff";
            return next(context);
        });
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            ContentTypeProvider = new FileExtensionContentTypeProvider(),
            ServeUnknownFileTypes = false,
        });
        app.MapGet(RoomScriptPath, (HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "no-cache";
            return Results.Text(RoomScript, "application/javascript; charset=utf-8");
        });
        app.MapGet("/{room}", (HttpContext context, string room) => ServeRoomPage(context, files, room));
    }

    private static IResult ServeRoomPage(HttpContext context, IFileProvider files, string room)
    {
        var index = files.GetFileInfo("/index.html");
        if (!index.Exists || room.Contains('.'))
        {
            return Results.NotFound();
        }
        string html;
        using (var reader = new StreamReader(index.CreateReadStream(), Encoding.UTF8))
        {
            html = reader.ReadToEnd();
        }
        const string tag = "<script src=\"" + RoomScriptPath + "\"></script>";
        int head = html.IndexOf("<head>", StringComparison.OrdinalIgnoreCase);
        html = head >= 0 ? html.Insert(head + "<head>".Length, "\n  " + tag) : tag + html;
        context.Response.Headers.CacheControl = "no-cache";
        return Results.Content(html, "text/html; charset=utf-8");
    }
}
