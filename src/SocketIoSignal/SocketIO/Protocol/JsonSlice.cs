namespace SocketIoSignal.SocketIO.Protocol;

/// <summary>An element of a packet's top-level array: where it lies in the JSON text, and whether it is canonical.</summary>
internal readonly record struct JsonSlice(int Start, int Length, bool Canonical);
