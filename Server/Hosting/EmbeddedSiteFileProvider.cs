using System.Reflection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.FileProviders.Embedded;
using Microsoft.Extensions.Primitives;

namespace SocketIoSignal.Hosting;

/// <summary>
/// The repository's public/ folder as built into the program (embedded resources named <c>public/…</c>, see
/// Server.csproj), served when no public/ folder is found: a published single file serves the codelab page with no
/// other file beside it. The rules of <see cref="SafeFileProvider"/> hold: a path with an unsafe segment is not
/// found, and folders are never listed (their contents answer only whether they exist, for the default document).
/// </summary>
public sealed class EmbeddedSiteFileProvider : IFileProvider
{
    /// <summary>The logical name every embedded page file starts with.</summary>
    public const string ResourcePrefix = "public/";

    /// <summary>How the start-up line names this root.</summary>
    public const string Description = "public/ (built in)";

    private readonly Assembly _assembly;
    private readonly Dictionary<string, string> _files = new(StringComparer.Ordinal);
    private readonly HashSet<string> _folders = new(StringComparer.Ordinal) { "/" };
    private readonly DateTimeOffset _lastModified;

    public EmbeddedSiteFileProvider(Assembly assembly, string resourcePrefix = ResourcePrefix)
    {
        _assembly = assembly;
        // The resources carry no date: the time the program started stands for all of them.
        var now = DateTimeOffset.UtcNow;
        _lastModified = new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(resourcePrefix, StringComparison.Ordinal))
            {
                continue;
            }
            // MSBuild's %(RecursiveDir) uses the building machine's separator.
            var path = "/" + name[resourcePrefix.Length..].Replace('\\', '/');
            _files[path] = name;
            for (int slash = path.LastIndexOf('/'); slash > 0; slash = path.LastIndexOf('/', slash - 1))
            {
                _folders.Add(path[..slash]);
            }
        }
    }

    /// <summary>The page built into this program.</summary>
    public static EmbeddedSiteFileProvider ForServer() => new(typeof(EmbeddedSiteFileProvider).Assembly);

    /// <summary>Whether the program was built with the page (an index.html) in it.</summary>
    public bool HasIndex => _files.ContainsKey("/index.html");

    public IFileInfo GetFileInfo(string subpath)
    {
        var path = Normalize(subpath);
        return path is not null && _files.TryGetValue(path, out var resource)
            ? new EmbeddedResourceFileInfo(_assembly, resource, path[(path.LastIndexOf('/') + 1)..], _lastModified)
            : new NotFoundFileInfo(subpath);
    }

    public IDirectoryContents GetDirectoryContents(string subpath)
    {
        var path = Normalize(subpath);
        if (path is null)
        {
            return NotFoundDirectoryContents.Singleton;
        }
        var folder = path.Length > 1 ? path.TrimEnd('/') : path;
        if (!_folders.Contains(folder))
        {
            return NotFoundDirectoryContents.Singleton;
        }
        return Exists.Instance;
    }

    public IChangeToken Watch(string filter) => NullChangeToken.Singleton;

    /// <summary>"/a/b" for "a/b" or "/a/b"; null for a path <see cref="SafeFileProvider.IsSafe"/> refuses.</summary>
    private static string? Normalize(string subpath)
    {
        if (subpath is null || !SafeFileProvider.IsSafe(subpath) || subpath.Contains('\\') || subpath.Contains('\0'))
        {
            return null;
        }
        return subpath.StartsWith('/') ? subpath : "/" + subpath;
    }

    /// <summary>A folder that exists, listed as empty.</summary>
    private sealed class Exists : IDirectoryContents
    {
        public static readonly Exists Instance = new();

        bool IDirectoryContents.Exists => true;

        public IEnumerator<IFileInfo> GetEnumerator() => Enumerable.Empty<IFileInfo>().GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
