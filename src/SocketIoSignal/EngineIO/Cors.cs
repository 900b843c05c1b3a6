using Microsoft.AspNetCore.Http;

namespace SocketIoSignal.EngineIO;

/// <summary>
/// Same-origin by default; an allow-list opens chosen origins (with credentials), "*" opens all (without).
/// An arbitrary Origin is never reflected together with credentials.
/// </summary>
internal static class Cors
{
    /// <summary>Adds the CORS headers a request earns; false when it is cross-origin and not allowed.</summary>
    /// <param name="context">The request.</param>
    /// <param name="allowedOrigins">EngineIo:AllowedOrigins.</param>
    /// <param name="allowedHeaders">EngineIo:AllowedHeaders: a preflight's Access-Control-Allow-Headers; empty: the requested ones.</param>
    public static bool Apply(HttpContext context, string[] allowedOrigins, string[]? allowedHeaders = null)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return true;
        }
        var headers = context.Response.Headers;
        bool allowed;
        if (allowedOrigins.Contains(origin, StringComparer.OrdinalIgnoreCase))
        {
            headers.AccessControlAllowOrigin = origin;
            headers.AccessControlAllowCredentials = "true";
            headers.Vary = "Origin";
            allowed = true;
        }
        else if (allowedOrigins.Contains("*"))
        {
            headers.AccessControlAllowOrigin = "*";
            allowed = true;
        }
        else
        {
            allowed = IsSameOrigin(origin, context.Request.Scheme, context.Request.Host.Value);
        }
        if (allowed && HttpMethods.IsOptions(context.Request.Method))
        {
            headers.AccessControlAllowMethods = "GET,POST";
            if (allowedHeaders is { Length: > 0 })
            {
                // a preflight is rare: joined as Node's cors joins the list ("a,b")
                headers.AccessControlAllowHeaders = string.Join(",", allowedHeaders);
            }
            else
            {
                var requested = context.Request.Headers.AccessControlRequestHeaders.ToString();
                if (requested.Length > 0)
                {
                    headers.AccessControlAllowHeaders = requested;
                }
            }
        }
        return allowed;
    }

    /// <summary>Same scheme and same host:port as the request (an https page is another origin than http).</summary>
    private static bool IsSameOrigin(string origin, string scheme, string? host) =>
        host is not null
        && Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && string.Equals(uri.Scheme, scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(uri.Authority, host, StringComparison.OrdinalIgnoreCase);
}
