using System.Diagnostics.CodeAnalysis;
using System.Net;
using Microsoft.AspNetCore.Http;

namespace SocketIoSignal.EngineIO;

/// <summary>What the server knew of the client when its session opened; a copy, so it outlives the request.</summary>
internal sealed class HandshakeInfo
{
    private string? _url;
    private string _path = "";
    private string _queryString = "";

    public required IReadOnlyDictionary<string, string> Headers { get; init; }
    public required IReadOnlyDictionary<string, string> Query { get; init; }
    public required IPAddress? RemoteAddress { get; init; }
    public required DateTimeOffset Time { get; init; }

    /// <summary>Path and query of the handshake request; put together when first asked for.</summary>
    public string Url
    {
        get => _url ??= string.Concat(_path, _queryString);
        init => _url = value;
    }

    public required bool Secure { get; init; }

    private System.Security.Claims.ClaimsPrincipal? _user;

    /// <summary>
    /// The handshake request's authenticated user, as ASP.NET authentication left it. When nothing set one, the
    /// anonymous user <c>HttpContext.User</c> would have given is made when first asked for, not kept by every session.
    /// </summary>
    public System.Security.Claims.ClaimsPrincipal User
    {
        get => LazyInitializer.EnsureInitialized(ref _user, static () => new(new System.Security.Claims.ClaimsIdentity()));
        init => _user = value;
    }

    /// <summary>The session's copy of the request; <paramref name="query"/> is its query string as parsed once.</summary>
    internal static HandshakeInfo From(HttpContext context, Dictionary<string, Microsoft.Extensions.Primitives.StringValues>? query, TimeProvider time)
    {
        var request = context.Request;
        var headers = new KeyValuePair<string, string>[request.Headers.Count];
        int n = 0;
        foreach (var (key, value) in request.Headers)
        {
            headers[n++] = new(key, value.ToString());
        }
        var pairs = query is null || query.Count == 0 ? [] : new KeyValuePair<string, string>[query.Count];
        n = 0;
        foreach (var (key, value) in query ?? [])
        {
            pairs[n++] = new(key, value.ToString());
        }
        return new HandshakeInfo
        {
            // Small maps searched in order: a session keeps ~10 headers and ~3 query parameters, and a Dictionary
            // would cost more than they do.
            Headers = new SmallMap(headers, n: headers.Length, StringComparer.OrdinalIgnoreCase),
            Query = new SmallMap(pairs, n: pairs.Length, StringComparer.Ordinal),
            RemoteAddress = context.Connection.RemoteIpAddress,
            Time = time.GetUtcNow(),
            _path = request.Path.Value ?? "",
            _queryString = request.QueryString.Value ?? "",
            Secure = request.IsHttps,
            // The feature, not HttpContext.User, whose getter would make the anonymous user for every request.
            _user = context.Features.Get<Microsoft.AspNetCore.Http.Features.Authentication.IHttpAuthenticationFeature>()?.User,
        };
    }

    /// <summary>A read-only map over a few pairs with distinct keys, searched in order.</summary>
    private sealed class SmallMap(KeyValuePair<string, string>[] pairs, int n, StringComparer comparer) : IReadOnlyDictionary<string, string>
    {
        public string this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException(key);

        public IEnumerable<string> Keys => pairs.Take(n).Select(p => p.Key);

        public IEnumerable<string> Values => pairs.Take(n).Select(p => p.Value);

        public int Count => n;

        public bool ContainsKey(string key) => TryGetValue(key, out _);

        public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value)
        {
            for (int i = 0; i < n; i++)
            {
                if (comparer.Equals(pairs[i].Key, key))
                {
                    value = pairs[i].Value;
                    return true;
                }
            }
            value = null;
            return false;
        }

        public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
        {
            for (int i = 0; i < n; i++)
            {
                yield return pairs[i];
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
