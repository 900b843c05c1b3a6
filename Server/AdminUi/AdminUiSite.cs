using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;

namespace SocketIoSignal.Hosting;

/// <summary>
/// The Socket.IO Admin UI in the codelab app, off unless <c>--AdminUi:Enabled=true</c>: the server side
/// (<c>AddAdminUi</c>, options from the <c>AdminUi</c> section) and the official UI's files, as the npm package
/// <c>@socket.io/admin-ui</c> 0.5.1 ships them in <c>ui/dist</c>, at <c>/admin/</c>.
/// </summary>
public static class AdminUiSite
{
    /// <summary>The configuration key that turns the admin UI on (off by default).</summary>
    public const string EnabledKey = "AdminUi:Enabled";

    /// <summary>Where the UI's files are served.</summary>
    public const string RequestPath = "/admin";

    /// <summary>The logical name of every embedded UI file starts with this (see Server.csproj).</summary>
    public const string ResourcePrefix = "admin-ui/";

    /// <summary>Whether <see cref="EnabledKey"/> is true.</summary>
    public static bool IsEnabled(IConfiguration configuration) => configuration.GetValue<bool>(EnabledKey);


    /// <summary>Serves the UI at /admin/ (and sends /admin there).</summary>
    public static void UseAdminUiFiles(this WebApplication app)
    {
        // Built into the program, as the page is, so a published single file has them too.
        var files = new EmbeddedSiteFileProvider(typeof(AdminUiSite).Assembly, ResourcePrefix);
        app.Use((context, next) =>
        {
            if (!context.Request.Path.StartsWithSegments(RequestPath, StringComparison.Ordinal, out var rest))
            {
                return next(context);
            }
            if (!rest.HasValue && (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)))
            {
                context.Response.Redirect(RequestPath + "/");
                return Task.CompletedTask;
            }
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            return next(context);
        });
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = RequestPath });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            RequestPath = RequestPath,
            ServeUnknownFileTypes = false,
            OnPrepareResponse = context =>
            {
                if (context.File.Name == "index.html")
                {
                    context.Context.Response.Headers.CacheControl = "no-cache";
                }
            },
        });
    }
}
