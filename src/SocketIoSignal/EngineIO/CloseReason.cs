namespace SocketIoSignal.EngineIO;

/// <summary>Why an Engine.IO session ended. <see cref="CloseReasons.ToWire"/> gives the reference server's string.</summary>
internal enum CloseReason
{
    /// <summary>The client closed the connection or sent a close packet.</summary>
    TransportClose,
    /// <summary>The transport failed: aborted request, overlapping poll, write error.</summary>
    TransportError,
    /// <summary>No heartbeat within pingInterval + pingTimeout.</summary>
    PingTimeout,
    /// <summary>The client sent something that is not the protocol.</summary>
    ParseError,
    /// <summary>The server closed the session (the layer above asked).</summary>
    ForcedClose,
    /// <summary>The server is stopping.</summary>
    ServerShuttingDown,
    /// <summary>The client did not read and its outgoing queue passed MaxQueuedBytes.</summary>
    SendBufferFull,
    /// <summary>A message over MaxHttpBufferSize.</summary>
    MessageTooBig,
}
