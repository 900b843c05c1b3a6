namespace SocketIoSignal.Tests.Infrastructure;

/// <summary>Finds the repository (the folder holding SocketIoSignal.sln) from the test binary.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Combine(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SocketIoSignal.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("SocketIoSignal.sln not found above " + AppContext.BaseDirectory);
    }
}
