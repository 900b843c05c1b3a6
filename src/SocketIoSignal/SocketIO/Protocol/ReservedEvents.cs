namespace SocketIoSignal.SocketIO.Protocol;

/// <summary>The event names Socket.IO keeps for itself: the one home of that fact.</summary>
internal static class ReservedEvents
{
    /// <summary>Names the server may not emit (socket.io's RESERVED_EVENTS).</summary>
    private static readonly HashSet<string> ForEmit = new(StringComparer.Ordinal)
    {
        "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
    };

    /// <summary>Names a client may never send as events: the same, and "error", which crashed servers before 4.6.2.</summary>
    public static readonly IReadOnlySet<string> FromClient = new HashSet<string>(ForEmit, StringComparer.Ordinal) { "error" };

    /// <summary>Refuses a reserved name given to an emit or a handler.</summary>
    public static void ThrowIfReserved(string eventName)
    {
        ArgumentNullException.ThrowIfNull(eventName);
        if (ForEmit.Contains(eventName))
        {
            throw new ArgumentException($"\"{eventName}\" is a reserved event name", nameof(eventName));
        }
    }
}
