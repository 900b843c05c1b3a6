using System.Net;
using System.Net.Sockets;

namespace SocketIoSignal.Tests.Infrastructure;

/// <summary>A loopback port nobody listens on right now, for a process that must be told its port.</summary>
public static class FreePort
{
    public static int Find()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
