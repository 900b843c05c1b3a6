namespace SocketIoSignal.AdminUi;

/// <summary>
/// Options of the server side of the Socket.IO Admin UI (<c>@socket.io/admin-ui</c> 0.5.x), the counterpart of the
/// options of Node's <c>instrument(io, { … })</c>. Bound from the <c>AdminUi</c> configuration section, then set in
/// code by <c>AddAdminUi(o =&gt; …)</c>; validated when the application starts.
/// </summary>
public sealed class AdminUiOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string Section = "AdminUi";

    /// <summary>The namespace the UI connects to (<c>namespaceName</c>, <c>/admin</c> by default).</summary>
    public string Namespace { get; set; } = "/admin";

    /// <summary>
    /// The user name the UI's login form must send. Required unless <see cref="AllowAnonymous"/> is set.
    /// </summary>
    public string? Username { get; set; }

    /// <summary>
    /// The password the UI's login form must send, in plain text (compared in constant time). Node's option takes a
    /// bcrypt hash instead; bcrypt is not part of .NET, so this takes the password itself: keep it out of source
    /// control (environment variable, user secrets, a secret store). Required unless <see cref="AllowAnonymous"/> is set.
    /// </summary>
    public string? Password { get; set; }

    /// <summary>
    /// Lets anyone who reaches the server connect to the admin namespace without credentials (Node's
    /// <c>auth: false</c>). Off by default, and it must be set explicitly: with it off, <see cref="Username"/> and
    /// <see cref="Password"/> are required.
    /// </summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>
    /// Whether the UI may only look: no join, leave, disconnect nor emit (<c>readonly</c>, off by default).
    /// </summary>
    public bool ReadOnly { get; set; }

    /// <summary>
    /// <c>development</c> (the default, as Node's when <c>NODE_ENV</c> is unset): the UI gets every socket, room and
    /// event as they happen. <c>production</c>: only the server statistics and aggregated counts, which cost far less
    /// on a busy server.
    /// </summary>
    public string Mode { get; set; } = "development";

    /// <summary>How often the statistics (<c>server_stats</c>) are sent to the UI (2 s, as Node's).</summary>
    public TimeSpan ServerStatsInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The server's name in the UI (<c>serverId</c>); empty: the host name.</summary>
    public string? ServerId { get; set; }

    /// <summary>
    /// How long a login stays valid: the UI reconnects with the session id it got instead of the password
    /// (24 hours, as Node's Redis store keeps sessions).
    /// </summary>
    public TimeSpan SessionDuration { get; set; } = TimeSpan.FromHours(24);

    internal bool IsDevelopment => string.Equals(Mode, "development", StringComparison.Ordinal);
}
