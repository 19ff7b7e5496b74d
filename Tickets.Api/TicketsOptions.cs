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
}
