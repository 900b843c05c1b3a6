using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.FileProviders.Physical;
using Microsoft.Extensions.Primitives;

namespace SocketIoSignal.Hosting;

/// <summary>
/// The static root, guarded: no segment may start with '.', contain NUL, '\' or ':'; nothing that resolves
/// (through symlinks) outside the root is served; no directory contents are listed.
/// </summary>
public sealed class SafeFileProvider : IFileProvider, IDisposable
{
    private readonly PhysicalFileProvider _inner;
    private readonly string _root;

    public SafeFileProvider(string root)
    {
        _root = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        _root = ResolveReal(_root.TrimEnd(Path.DirectorySeparatorChar)) + Path.DirectorySeparatorChar;
        _inner = new PhysicalFileProvider(_root);
    }

    public string Root => _root;

    public IFileInfo GetFileInfo(string subpath)
    {
        if (!IsSafe(subpath))
        {
            return new NotFoundFileInfo(subpath);
        }
        var info = _inner.GetFileInfo(subpath);
        if (!info.Exists || info.PhysicalPath is null || info.IsDirectory)
        {
            return info.IsDirectory ? new NotFoundFileInfo(subpath) : info;
        }
        var real = ResolveReal(info.PhysicalPath);
        if (!real.StartsWith(_root, StringComparison.Ordinal))
        {
            return new NotFoundFileInfo(subpath);
        }
        // A symlink's own FileInfo has the link's length and date, not the file's: describe the target instead,
        // or the response announces the wrong Content-Length.
        return real == info.PhysicalPath ? info : new PhysicalFileInfo(new FileInfo(real));
    }

    public IDirectoryContents GetDirectoryContents(string subpath)
    {
        if (!IsSafe(subpath))
        {
            return NotFoundDirectoryContents.Singleton;
        }
        // Default documents are looked up through here; the real path must stay inside the root.
        var contents = _inner.GetDirectoryContents(subpath);
        var full = Path.GetFullPath(Path.Combine(_root, subpath.TrimStart('/')));
        return ResolveReal(full.TrimEnd(Path.DirectorySeparatorChar)).StartsWith(_root.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal)
            ? contents
            : NotFoundDirectoryContents.Singleton;
    }

    public IChangeToken Watch(string filter) => NullChangeToken.Singleton;

    public void Dispose() => _inner.Dispose();

    public static bool IsSafe(string subpath)
    {
        foreach (var segment in subpath.Split('/'))
        {
            if (segment.Length == 0)
            {
                continue;
            }
            if (segment[0] == '.' || segment.AsSpan().IndexOfAny('\0', '\\', ':') >= 0)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The path with every symlink along it resolved.</summary>
    private static string ResolveReal(string path)
    {
        var full = Path.GetFullPath(path);
        var parts = full.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        var current = Path.DirectorySeparatorChar.ToString();
        for (int i = 0; i < parts.Length; i++)
        {
            current = Path.Combine(current, parts[i]);
            FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (info.LinkTarget is not null)
            {
                var target = info.ResolveLinkTarget(returnFinalTarget: true);
                if (target is null)
                {
                    return "/nonexistent";
                }
                current = ResolveReal(target.FullName);
            }
        }
        return current;
    }
}
