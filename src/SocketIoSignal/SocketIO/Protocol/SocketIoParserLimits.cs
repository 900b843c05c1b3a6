namespace SocketIoSignal.SocketIO.Protocol;

/// <summary>Limits every decode enforces; the defaults are the reference parser's where it has one.</summary>
internal sealed record SocketIoParserLimits(int MaxAttachments = 10, int MaxJsonDepth = 64, int MaxAckIdDigits = 15);
