namespace SocketIoSignal.SocketIO.Adapter;

/// <summary>
/// Node's emit flags: <c>volatile</c> (dropped when the transport cannot take it now), <c>compress</c> (false asks the
/// transport not to compress), <c>local</c> (this node only), <c>timeout</c> (how long acknowledgements are awaited).
/// The default value is "no flag", so a plain emit carries nothing.
/// </summary>
internal readonly record struct BroadcastFlags(bool Volatile, bool NoCompress, bool Local, TimeSpan? Timeout)
{
    public bool Compress => !NoCompress;

    /// <summary>Whether delivery to a socket must look at the flags (volatile, no compression).</summary>
    public bool AffectsDelivery => Volatile || NoCompress;
}
