using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace SocketIoSignal.AspNetCore;

/// <summary>
/// Serves the vendored socket.io-client bundle (unmodified npm files) at /socket.io/socket.io.js, .min.js and
/// .js.map, with a strong ETag, 304 on If-None-Match and Cache-Control, as socket.io does.
/// </summary>
internal sealed class ClientBundles
{
    /// <summary>The vendored socket.io-client versions.</summary>
    public static readonly string[] Versions = ["1.7.4", "2.5.0", "4.8.1"];

    /// <summary>The file names served of each bundle (where the version has them).</summary>
    public static readonly string[] FileNames = ["socket.io.js", "socket.io.min.js", "socket.io.js.map", "socket.io.min.js.map"];

    private readonly Dictionary<string, (byte[] Bytes, string ETag, string ContentType)> _files = new(StringComparer.Ordinal);

    public ClientBundles(string version, string prefix)
    {
        if (!Versions.Contains(version))
        {
            throw new ArgumentException($"no socket.io-client bundle {version}; there are {string.Join(", ", Versions)}");
        }
        Version = version;
        var assembly = typeof(ClientBundles).Assembly;
        foreach (var name in FileNames)
        {
            using var stream = assembly.GetManifestResourceStream($"ClientBundles/{version}/{name}");
            if (stream is null)
            {
                continue;
            }
            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..20] + "\"";
            var type = name.EndsWith(".map", StringComparison.Ordinal) ? "application/json; charset=utf-8" : "application/javascript; charset=utf-8";
            _files[prefix + name] = (bytes, etag, type);
        }
    }

    public string Version { get; }

    public IEnumerable<string> Paths => _files.Keys;

    /// <summary>Serves the bundle when the path names one; false otherwise.</summary>
    public bool TryServe(HttpContext context, out Task served)
    {
        served = Task.CompletedTask;
        if (!_files.TryGetValue(context.Request.Path.Value ?? "", out var file))
        {
            return false;
        }
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            return false;
        }
        var response = context.Response;
        response.Headers.ETag = file.ETag;
        response.Headers.CacheControl = "public, max-age=0";
        response.Headers.XContentTypeOptions = "nosniff";
        var ifNoneMatch = context.Request.Headers.IfNoneMatch;
        if (ifNoneMatch.Count > 0 && EntityTagHeaderValue.TryParseList(ifNoneMatch, out var tags)
            && tags.Any(t => t.Tag == file.ETag || t == EntityTagHeaderValue.Any))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return true;
        }
        response.ContentType = file.ContentType;
        response.ContentLength = file.Bytes.Length;
        if (HttpMethods.IsGet(context.Request.Method))
        {
            served = response.Body.WriteAsync(file.Bytes).AsTask();
        }
        return true;
    }
}
