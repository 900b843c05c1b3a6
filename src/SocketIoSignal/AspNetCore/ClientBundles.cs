using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using SocketIoSignal.EngineIO;

namespace SocketIoSignal.AspNetCore;

/// <summary>
/// Serves the vendored socket.io-client bundles (unmodified npm files) under the Socket.IO path as socket.io does:
/// socket.io.js, .min.js, the ESM and msgpack builds and their source maps, with a strong ETag, 304 on If-None-Match,
/// Cache-Control, compressed (br, gzip or deflate) as the request accepts, and the CORS headers of an allowed origin.
/// </summary>
internal sealed class ClientBundles
{
    /// <summary>The vendored socket.io-client versions.</summary>
    public static readonly string[] Versions = ["1.7.4", "2.5.0", "4.8.1"];

    /// <summary>The file names served of each bundle (where the version has them): socket.io 4.8's list.</summary>
    public static readonly string[] FileNames =
    [
        "socket.io.js", "socket.io.min.js", "socket.io.js.map", "socket.io.min.js.map",
        "socket.io.esm.min.js", "socket.io.esm.min.js.map", "socket.io.msgpack.min.js", "socket.io.msgpack.min.js.map",
    ];

    private readonly Dictionary<string, BundleFile> _files = new(StringComparer.Ordinal);
    private readonly EngineIoOptions _cors;

    public ClientBundles(string version, string prefix, EngineIoOptions cors)
    {
        if (!Versions.Contains(version))
        {
            throw new ArgumentException($"no socket.io-client bundle {version}; there are {string.Join(", ", Versions)}");
        }
        Version = version;
        _cors = cors;
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
            _files[prefix + name] = new BundleFile(bytes, name.EndsWith(".map", StringComparison.Ordinal));
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
        // An allowed origin gets its CORS headers (a module script or a fetch of the map needs them); any other
        // still gets the file, as from Node: a classic script tag is not subject to CORS.
        Cors.Apply(context, _cors.AllowedOrigins, _cors.AllowedHeaders);
        var response = context.Response;
        response.Headers.ETag = file.ETag;
        response.Headers.CacheControl = "public, max-age=0";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.Append(HeaderNames.Vary, "Accept-Encoding");
        var ifNoneMatch = context.Request.Headers.IfNoneMatch;
        if (ifNoneMatch.Count > 0 && EntityTagHeaderValue.TryParseList(ifNoneMatch, out var tags)
            && tags.Any(t => t.Tag == file.ETag || t == EntityTagHeaderValue.Any))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return true;
        }
        response.ContentType = file.ContentType;
        var coding = HttpCompression.Choose(context.Request.Headers.AcceptEncoding.ToString(), HttpCompression.BundleCodings);
        var bytes = file.Encoded(coding);
        if (coding != ContentCoding.Identity)
        {
            response.Headers.ContentEncoding = HttpCompression.Name(coding);
        }
        response.ContentLength = bytes.Length;
        if (HttpMethods.IsGet(context.Request.Method))
        {
            served = response.Body.WriteAsync(bytes).AsTask();
        }
        return true;
    }

    /// <summary>One file: its bytes, and each compressed form made once, on its first request.</summary>
    private sealed class BundleFile
    {
        private readonly byte[] _bytes;
        private readonly Lazy<byte[]> _brotli;
        private readonly Lazy<byte[]> _gzip;
        private readonly Lazy<byte[]> _deflate;

        public BundleFile(byte[] bytes, bool isMap)
        {
            _bytes = bytes;
            ETag = "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..20] + "\"";
            ContentType = isMap ? "application/json; charset=utf-8" : "application/javascript; charset=utf-8";
            _brotli = new(() => HttpCompression.Compress(bytes, ContentCoding.Brotli));
            _gzip = new(() => HttpCompression.Compress(bytes, ContentCoding.Gzip));
            _deflate = new(() => HttpCompression.Compress(bytes, ContentCoding.Deflate));
        }

        public string ETag { get; }

        public string ContentType { get; }

        public byte[] Encoded(ContentCoding coding) => coding switch
        {
            ContentCoding.Brotli => _brotli.Value,
            ContentCoding.Gzip => _gzip.Value,
            ContentCoding.Deflate => _deflate.Value,
            _ => _bytes,
        };
    }
}
