namespace Tickets.Tests.StandInHost;

/// <summary>What a host and the app in it logged (for Functions: the worker's output, its logs over the protocol and the stand-in host's own notes), in order.</summary>
public sealed class HostLog
{
    private readonly List<string> _lines = [];

    public int Count
    {
        get
        {
            lock (_lines)
            {
                return _lines.Count;
            }
        }
    }

    public void Add(string source, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_lines)
        {
            _lines.Add($"[{DateTime.UtcNow:HH:mm:ss.fff} {source}] {line}");
        }
    }

    public string Since(int position)
    {
        lock (_lines)
        {
            return string.Join('\n', _lines.Skip(position));
        }
    }

    public override string ToString() => Since(0);
}
