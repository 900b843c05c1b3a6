namespace SocketIoSignal.Tests.SocketIOTests.Recovery;

/// <summary>Command-line arguments of the recovery options, for tests of rooms mode (where recovery is on by default).</summary>
public static class RecoveryArgs
{
    /// <summary>
    /// Recovery off: for tests that compare rooms mode's events argument for argument (recovery appends an offset to
    /// each, as Node does) or that expect a dropped peer's bye at once (recovery holds it back for the window).
    /// </summary>
    public const string Off = "--SocketIo:ConnectionStateRecovery:MaxDisconnectionDuration=0";
}
