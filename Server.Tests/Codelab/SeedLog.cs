using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Codelab;

/// <summary>The seed's <c>log()</c> as an expected event of a transcript.</summary>
public static class SeedLog
{
    /// <summary>An expected line of the seed's <c>log()</c>: <c>log ["Message from server:", …parts]</c>.</summary>
    public static string Log(params string[] parts) => RawSocketIoClient.Ev("log", (object)(string[])["Message from server:", .. parts]);
}
