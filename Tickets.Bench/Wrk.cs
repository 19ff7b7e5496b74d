// The lean load generator: wrk (C, event loop, one Lua state per thread), as an outsider measures the ceiling.
// wrk prints its own report; the Lua `done` callback adds machine-readable lines ("tickets …") that are parsed here.
using System.Diagnostics;
using System.Globalization;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Tickets.Api;
using Tickets.Data;

namespace Tickets.Bench;

/// <summary>One wrk run: requests, duration, latency percentiles (wrk's, from its HdrHistogram) and the statuses.</summary>
internal sealed record WrkRun(long Requests, double Seconds, double P50Ms, double P90Ms, double P99Ms, double MaxMs,
    SortedDictionary<int, long> Statuses, long SocketErrors, long Timeouts)
{
    public long Count(int status) => Statuses.GetValueOrDefault(status);
}

internal static class Wrk
{
    public const string SigningKey = "benchmark-only-signing-key-0123456789-abcdefghijklmnopqrstuvwxyz";

    private const string Done = """
        function done(summary, latency, requests)
          local total = {}
          for _, t in ipairs(threads) do
            local s = t:get("statuses")
            if s then
              for status, count in pairs(s) do total[status] = (total[status] or 0) + count end
            end
          end
          for status, count in pairs(total) do io.write(string.format("tickets status %d %d\n", status, count)) end
          io.write(string.format("tickets requests %d\n", summary.requests))
          io.write(string.format("tickets duration_us %d\n", summary.duration))
          io.write(string.format("tickets non2xx %d\n", summary.errors.status))
          io.write(string.format("tickets socket_errors %d\n", summary.errors.connect + summary.errors.read + summary.errors.write))
          io.write(string.format("tickets timeouts %d\n", summary.errors.timeout))
          for _, p in ipairs({ 50, 90, 99 }) do
            io.write(string.format("tickets p%d_us %d\n", p, latency:percentile(p)))
          end
          io.write(string.format("tickets max_us %d\n", latency.max))
        end
        """;

    /// <summary>A plain GET: no per-request Lua (the leanest wrk there is); statuses from wrk's non-2xx count.</summary>
    private const string Plain = """
        threads = {}
        function setup(thread) table.insert(threads, thread) end
        """ + "\n" + Done;

    /// <summary>
    /// Holds of one event, each request with the next of many guest tokens (a file, one per line; each thread
    /// starts at its own place), optionally an Idempotency-Key of its own; every status counted.
    /// </summary>
    private const string Hold = """
        threads = {}
        function setup(thread)
          thread:set("id", #threads)
          table.insert(threads, thread)
        end
        function init(args)
          tokens = {}
          for line in io.lines(args[1]) do tokens[#tokens + 1] = "Bearer " .. line end
          body = '{"eventId":"' .. args[2] .. '","quantity":1}'
          keyed = args[3] == "keyed"
          prefix = args[4]
          statuses = {}
          counter = 0
          index = (id * 7919) % #tokens
        end
        function request()
          index = index % #tokens + 1
          local headers = { ["Content-Type"] = "application/json", ["Authorization"] = tokens[index] }
          if keyed then
            counter = counter + 1
            headers["Idempotency-Key"] = prefix .. "-" .. id .. "-" .. counter
          end
          return wrk.format("POST", nil, headers, body)
        end
        function response(status, headers, body)
          statuses[status] = (statuses[status] or 0) + 1
        end
        """ + "\n" + Done;

    private static readonly Lazy<string> Scripts = new(() =>
    {
        var directory = Directory.CreateTempSubdirectory("tickets-wrk-").FullName;
        File.WriteAllText(Path.Combine(directory, "live.lua"), Plain);
        File.WriteAllText(Path.Combine(directory, "hold.lua"), Hold);
        return directory;
    });

    public static bool Available => Locate() is not null;

    private static string? Locate() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(dir => Path.Combine(dir, "wrk")).FirstOrDefault(File.Exists);

    /// <summary>
    /// <paramref name="count"/> fresh guests, made in the database, and a file of their tokens (signed with the
    /// benchmark servers' key): a run's buyers start with no live holds, so the shipped live-holds cap (20 per
    /// buyer) only bites a buyer who holds more than that in one run.
    /// </summary>
    public static async Task<string> GuestTokensAsync(NpgsqlDataSource dataSource, int count)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var ids = (await connection.QueryAsync<Guid>("""
            insert into users (id, role)
            select gen_random_uuid(), @Role from generate_series(1, @Count)
            returning id
            """, new { Role = Roles.Guest, Count = count })).ToList();
        var tokens = new TokenService(Options.Create(new JwtOptions { SigningKey = SigningKey }), TimeProvider.System);
        var file = Path.Combine(Scripts.Value, $"tokens-{Guid.NewGuid():N}.txt");
        await File.WriteAllLinesAsync(file, ids.Select(id => tokens.Issue(id, Roles.Guest).AccessToken));
        return file;
    }

    public static void Delete(string tokenFile) => File.Delete(tokenFile);

    /// <summary>GET <paramref name="url"/> for <paramref name="duration"/>.</summary>
    public static Task<WrkRun> GetAsync(Uri url, int connections, TimeSpan duration, string? taskset) =>
        RunAsync(url, "live.lua", [], connections, duration, taskset);

    /// <summary>Holds of <paramref name="eventId"/> at <paramref name="baseAddress"/> (…/api/).</summary>
    public static Task<WrkRun> HoldAsync(Uri baseAddress, Guid eventId, string tokenFile, bool keyed, int connections, TimeSpan duration, string? taskset) =>
        RunAsync(new Uri(baseAddress, "reservations/hold"), "hold.lua",
            [tokenFile, eventId.ToString(), keyed ? "keyed" : "plain", Guid.NewGuid().ToString("N")], connections, duration, taskset);

    private static async Task<WrkRun> RunAsync(Uri url, string script, string[] scriptArgs, int connections, TimeSpan duration, string? taskset)
    {
        var wrk = Locate() ?? throw new InvalidOperationException("wrk is not installed: scripts/bench.sh installs it (apt-get install wrk).");
        var threads = Math.Max(1, Math.Min(Environment.ProcessorCount, connections));
        List<string> arguments = ["-t", $"{threads}", "-c", $"{connections}", "-d", $"{Math.Max(1, (int)Math.Round(duration.TotalSeconds))}s",
            "--timeout", "10s", "-s", Path.Combine(Scripts.Value, script), url.ToString(), "--", .. scriptArgs];
        var start = taskset is null ? new ProcessStartInfo(wrk, arguments) : new ProcessStartInfo("taskset", ["-c", taskset, wrk, .. arguments]);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var lines = (await output).Split('\n').Where(l => l.StartsWith("tickets ", StringComparison.Ordinal)).Select(l => l.Split(' ')).ToList();
        if (process.ExitCode != 0 || lines.Count == 0)
        {
            throw new InvalidOperationException($"wrk failed ({process.ExitCode}): {await output} {await error}");
        }
        long Value(string name) => lines.Where(l => l[1] == name).Select(l => long.Parse(l[2], CultureInfo.InvariantCulture)).FirstOrDefault();
        var requests = Value("requests");
        var statuses = new SortedDictionary<int, long>(lines.Where(l => l[1] == "status")
            .ToDictionary(l => int.Parse(l[2], CultureInfo.InvariantCulture), l => long.Parse(l[3], CultureInfo.InvariantCulture)));
        if (statuses.Count == 0 && requests > 0)
        {
            // No response callback (plain GET): wrk counts the answers outside 2xx/3xx, not which they were.
            var non2xx = Value("non2xx");
            statuses[200] = requests - non2xx;
            if (non2xx > 0)
            {
                statuses[999] = non2xx; // "not 2xx/3xx", printed as such
            }
        }
        return new WrkRun(requests, Value("duration_us") / 1e6, Value("p50_us") / 1e3, Value("p90_us") / 1e3, Value("p99_us") / 1e3,
            Value("max_us") / 1e3, statuses, Value("socket_errors"), Value("timeouts"));
    }
}
