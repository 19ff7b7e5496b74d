using Tickets.Data;

namespace Tickets.Api;

public enum HoldMode
{
    /// <summary>Concurrent holds of one event share a transaction (see HoldCombiner). The default.</summary>
    Batched,

    /// <summary>One transaction per hold: the baseline the benchmark compares against.</summary>
    Direct,
}

/// <summary>The "Tickets" configuration section.</summary>
public sealed class TicketsOptions
{
    public HoldMode HoldMode { get; set; } = HoldMode.Batched;

    /// <summary>The per-user ticket limit given to an event created without one; 0: none.</summary>
    public int DefaultMaxTicketsPerUser { get; set; } = 10;

    /// <summary><c>PerTransaction</c> behind PgBouncer before 1.21 in transaction mode (see <see cref="Data.PreparedStatements"/>).</summary>
    public PreparedStatements PreparedStatements { get; set; } = PreparedStatements.Kept;
}

/// <summary>
/// The connection string (<c>ConnectionStrings:Tickets</c>), checked when the host starts like the JWT settings, so
/// an app whose database secret did not resolve refuses to start instead of failing on its first request.
/// </summary>
public sealed class DatabaseOptions
{
    public string? ConnectionString { get; set; }

    /// <summary>Null when usable; otherwise what is wrong, naming the setting but never showing its value.</summary>
    public string? Problem() =>
        string.IsNullOrWhiteSpace(ConnectionString)
            ? $"{AppSettingNames.ConnectionString} is not set."
            : SettingReferences.Problem(AppSettingNames.ConnectionString, ConnectionString);
}
