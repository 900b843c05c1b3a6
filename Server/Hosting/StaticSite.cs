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

    public static void UseCodelabStaticFiles(this WebApplication app, string root) =>
        app.UseCodelabStaticFiles(new SafeFileProvider(root));

    /// <summary>The same over any file provider that keeps <see cref="SafeFileProvider"/>'s rules (the built-in page).</summary>
    public static void UseCodelabStaticFiles(this WebApplication app, IFileProvider files)
    {
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
        // Plain middleware after the files, not routes: a matched route endpoint makes the static file middleware
        // step aside, so a "/{room}" route would shadow every file at the top level (/index.html, /favicon.ico).
        app.Use((context, next) =>
        {
            var method = context.Request.Method;
            if ((!HttpMethods.IsGet(method) && !HttpMethods.IsHead(method)) || context.GetEndpoint() is not null)
            {
                return next(context);
            }
            var path = context.Request.Path.Value ?? "";
            if (path == RoomScriptPath)
            {
                return WriteAsync(context, RoomScript, "application/javascript; charset=utf-8");
            }
            return RoomFromPath(path, files) is { } room && RoomPage(files) is { } page
                ? WriteAsync(context, page, "text/html; charset=utf-8")
                : next(context);
        });
    }

    /// <summary>The room a path like /foo or /foo/ names; null when it names none, or a file or folder of the root.</summary>
    internal static string? RoomFromPath(string path, IFileProvider files)
    {
        if (path.Length < 2 || path[0] != '/')
        {
            return null;
        }
        var name = path[1..];
        if (name.EndsWith('/'))
        {
            name = name[..^1];
        }
        if (name.Length == 0 || name.Contains('/') || name.Contains('.'))
        {
            return null;
        }
        if (files.GetFileInfo("/" + name).Exists || files.GetDirectoryContents("/" + name).Exists)
        {
            return null;
        }
        return name;
    }

    private static Task WriteAsync(HttpContext context, string text, string contentType)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = contentType;
        context.Response.ContentLength = bytes.Length;
        context.Response.Headers.CacheControl = "no-cache";
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.Body.WriteAsync(bytes).AsTask();
    }

    /// <summary>The root's index.html with the room script (and a base URL) put first into its head.</summary>
    private static string? RoomPage(IFileProvider files)
    {
        var index = files.GetFileInfo("/index.html");
        if (!index.Exists)
        {
            return null;
        }
        string html;
        using (var reader = new StreamReader(index.CreateReadStream(), Encoding.UTF8))
        {
            html = reader.ReadToEnd();
        }
        // <base href="/">: the page's relative URLs (css/main.css, js/main.js) resolve from the root, also for /foo/.
        const string tag = "<base href=\"/\">\n  <script src=\"" + RoomScriptPath + "\"></script>";
        int head = html.IndexOf("<head>", StringComparison.OrdinalIgnoreCase);
        return head >= 0 ? html.Insert(head + "<head>".Length, "\n  " + tag) : tag + html;
    }
}
