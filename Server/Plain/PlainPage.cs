using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

namespace SocketIoSignal.Plain;

/// <summary>
/// The codelab page again under <c>/plain/</c>, talking to the plain WebSocket endpoint: the root's own files,
/// except that <c>js/main.js</c> has its <c>io.connect()</c> replaced by a small object over <c>new WebSocket(…)</c>
/// with the same <c>emit</c> and <c>on</c>. The root's files are not changed; the page at <c>/</c> stays as it is.
/// </summary>
internal static partial class PlainPage
{
    public const string Prefix = "/plain";

    /// <summary>What replaces <c>io.connect()</c>: a plain WebSocket and the little a page needs on top of it.</summary>
    private const string Shim = """
        // Served at /plain/js/main.js: the page's main.js, its Socket.IO connection replaced by a plain WebSocket to
        // __PATH__ whose text frames are JSON arrays ["event", args…]. This is all it does: no reconnection, no
        // heartbeat, no acknowledgements; frames emitted before the connection opens wait for it.
        function plainSocket() {
          var ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + __PATH__);
          var handlers = {};
          var waiting = [];
          ws.onopen = function () {
            waiting.forEach(function (frame) { ws.send(frame); });
            waiting = [];
          };
          ws.onmessage = function (event) {
            var frame = JSON.parse(event.data);
            (handlers[frame[0]] || []).forEach(function (handler) { handler.apply(null, frame.slice(1)); });
          };
          ws.onclose = function (event) {
            console.log('Message from client: plain WebSocket closed: ' + event.code + (event.reason ? ' ' + event.reason : ''));
          };
          return {
            ws: ws,
            emit: function () {
              var frame = JSON.stringify(Array.prototype.slice.call(arguments));
              if (ws.readyState === WebSocket.CONNECTING) {
                waiting.push(frame);
              } else if (ws.readyState === WebSocket.OPEN) {
                ws.send(frame);
              }
            },
            on: function (name, handler) {
              (handlers[name] = handlers[name] || []).push(handler);
            }
          };
        }

        """;

    [GeneratedRegex(@"\bio\.connect\([^)]*\)")]
    private static partial Regex IoConnect();

    /// <summary>The page's main.js with <c>io.connect()</c> replaced; null when it has none.</summary>
    internal static string? Transform(string mainJs, string wsPath)
    {
        if (!IoConnect().IsMatch(mainJs))
        {
            return null;
        }
        var body = IoConnect().Replace(mainJs, "plainSocket()", 1);
        var shim = Shim.Replace("__PATH__", JsonSerializer.Serialize(wsPath));
        // After a leading 'use strict', so the page keeps its strict mode.
        var strict = Regex.Match(body, @"^\s*(['""])use strict\1;?[^\n]*\n");
        return strict.Success ? body.Insert(strict.Length, "\n" + shim) : shim + body;
    }

    public static void UsePlainPage(this WebApplication app, IFileProvider files, string wsPath)
    {
        var types = new FileExtensionContentTypeProvider();
        app.Use((context, next) =>
        {
            var path = context.Request.Path.Value ?? "";
            if (!path.StartsWith(Prefix, StringComparison.Ordinal) || context.GetEndpoint() is not null
                || (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method)))
            {
                return next(context);
            }
            if (path == Prefix)
            {
                context.Response.Redirect(Prefix + "/" + context.Request.QueryString);
                return Task.CompletedTask;
            }
            if (!path.StartsWith(Prefix + "/", StringComparison.Ordinal))
            {
                return next(context);
            }
            var file = path[Prefix.Length..];
            if (file == "/")
            {
                file = "/index.html";
            }
            // The same rules as the root's files: nothing outside it, nothing odd in the name.
            if (file.Contains('\0') || file.Contains('\\') || !Hosting.SafeFileProvider.IsSafe(file))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }
            var info = files.GetFileInfo(file);
            if (!info.Exists || info.IsDirectory || !types.TryGetContentType(file, out var contentType))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }
            string text;
            using (var reader = new StreamReader(info.CreateReadStream(), Encoding.UTF8))
            {
                text = reader.ReadToEnd();
            }
            if (file == "/js/main.js")
            {
                if (Transform(text, wsPath) is not { } transformed)
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return Task.CompletedTask;
                }
                text = transformed;
                contentType = "application/javascript; charset=utf-8";
            }
            var bytes = Encoding.UTF8.GetBytes(text);
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = contentType;
            context.Response.ContentLength = bytes.Length;
            context.Response.Headers.CacheControl = "no-cache";
            context.Response.Headers.XContentTypeOptions = "nosniff";
            return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.Body.WriteAsync(bytes).AsTask();
        });
    }
}
