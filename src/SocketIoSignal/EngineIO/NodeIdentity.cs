namespace SocketIoSignal.EngineIO;

/// <summary>This process among the nodes of a cluster: a random id, the <c>node</c> tag of every meter.</summary>
internal sealed record NodeIdentity(string Id)
{
    public IEnumerable<KeyValuePair<string, object?>> Tags => [new("node", Id)];

    /// <summary>16 hex digits: no ':' nor ' ', so it may prefix socket ids in shared keys.</summary>
    public static NodeIdentity CreateRandom() => new(Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)));
}
