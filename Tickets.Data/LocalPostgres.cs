using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Tickets.Data;

/// <summary>
/// A throwaway PostgreSQL for development and tests, run from the machine's own server binaries (there is no
/// Docker engine on our machines). Data lives in a git-ignored folder; the server listens on 127.0.0.1 only with
/// trust authentication, so it must never be used for anything but local work. When the process runs as root the
/// server runs as the <c>postgres</c> user, because initdb refuses root.
/// Starting is idempotent and safe from two processes at once (a lock file), and a server already listening on the
/// port is reused, so the local host and a test run can share one cluster.
/// </summary>
public sealed class LocalPostgres
{
    public const int DefaultPort = 55432;

    private readonly ILogger _logger;

    public LocalPostgres(ILogger logger, string? dataDirectory = null, int port = DefaultPort)
    {
        _logger = logger;
        Port = port;
        DataDirectory = Path.GetFullPath(dataDirectory ?? DefaultDataDirectory());
    }

    public int Port { get; }
    public string DataDirectory { get; }
    public string LogFile => Path.Combine(DataDirectory, "server.log");

    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = "postgres",
        Database = database,
    }.ConnectionString;

    /// <summary>Starts the cluster if needed and makes sure <paramref name="database"/> exists.</summary>
    /// <returns>A connection string for that database.</returns>
    public async Task<string> EnsureStartedAsync(string database, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(DataDirectory)!);
        using (await AcquireStartLockAsync(cancellationToken))
        {
            if (!await AcceptsConnectionsAsync(cancellationToken))
            {
                var bin = FindBinDirectory();
                if (!File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
                {
                    await InitAsync(bin, cancellationToken);
                }
                await StartAsync(bin, cancellationToken);
            }
        }
        await EnsureDatabaseAsync(database, cancellationToken);
        return ConnectionString(database);
    }

    public async Task StopAsync(string mode = "fast", CancellationToken cancellationToken = default)
    {
        if (!File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            return;
        }
        await RunAsync(Path.Combine(FindBinDirectory(), "pg_ctl"), ["stop", "-D", DataDirectory, "-m", mode, "-w"], cancellationToken);
    }

    /// <summary>Starts a stopped cluster again (used by fault tests after an immediate stop).</summary>
    public Task StartAgainAsync(CancellationToken cancellationToken = default) => StartAsync(FindBinDirectory(), cancellationToken);

    private async Task InitAsync(string bin, CancellationToken cancellationToken)
    {
        _logger.LogInformation("Creating a local PostgreSQL cluster in {DataDirectory}", DataDirectory);
        Directory.CreateDirectory(DataDirectory);
        if (IsRoot)
        {
            await RunAsync("chown", ["-R", "postgres:postgres", DataDirectory], cancellationToken);
        }
        await RunAsync(Path.Combine(bin, "initdb"),
            ["-D", DataDirectory, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"],
            cancellationToken);
    }

    private async Task StartAsync(string bin, CancellationToken cancellationToken)
    {
        _logger.LogInformation("Starting local PostgreSQL on 127.0.0.1:{Port}", Port);
        // Sockets only on loopback TCP; no Unix socket so the path length and directory permissions never matter.
        var options = string.Create(CultureInfo.InvariantCulture,
            $"-p {Port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=500 -c shared_buffers=256MB");
        await RunAsync(Path.Combine(bin, "pg_ctl"),
            ["start", "-D", DataDirectory, "-l", LogFile, "-w", "-t", "60", "-o", options],
            cancellationToken);
    }

    private async Task EnsureDatabaseAsync(string database, CancellationToken cancellationToken)
    {
        await using var dataSource = NpgsqlDataSource.Create(ConnectionString("postgres"));
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("select 1 from pg_database where datname = @name", connection);
        exists.Parameters.AddWithValue("name", database);
        if (await exists.ExecuteScalarAsync(cancellationToken) is not null)
        {
            return;
        }
        try
        {
            // Identifiers cannot be parameters; the name is quoted and doubled quotes escaped.
            await using var create = new NpgsqlCommand($"create database \"{database.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
            // Another process created it first.
        }
    }

    private async Task<bool> AcceptsConnectionsAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var client = new TcpClient();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            await client.ConnectAsync("127.0.0.1", Port, timeout.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        await using var dataSource = NpgsqlDataSource.Create(ConnectionString("postgres"));
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
                return true;
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.CannotConnectNow && attempt < 50)
            {
                // Starting up or recovering after a crash.
                await Task.Delay(200, cancellationToken);
            }
        }
    }

    private async Task<IDisposable> AcquireStartLockAsync(CancellationToken cancellationToken)
    {
        var path = DataDirectory + ".lock";
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 600)
            {
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    private async Task RunAsync(string fileName, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (IsRoot && fileName != "chown")
        {
            start.FileName = "runuser";
            foreach (var a in (string[])["-u", "postgres", "--", fileName])
            {
                start.ArgumentList.Add(a);
            }
        }
        else
        {
            start.FileName = fileName;
        }
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        // pg_ctl leaves the server holding its inherited pipes, so read with a bound rather than to the end.
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            string output;
            lock (stderr) { lock (stdout) { output = stderr.ToString() + stdout; } }
            var log = File.Exists(LogFile) ? TailOf(LogFile) : "";
            throw new InvalidOperationException(
                $"'{fileName} {string.Join(' ', arguments)}' failed with exit code {process.ExitCode}: {output}{log}");
        }
    }

    private static string TailOf(string path)
    {
        try
        {
            var lines = File.ReadAllLines(path);
            return "\nServer log:\n" + string.Join('\n', lines.TakeLast(20));
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static bool IsRoot => Environment.UserName == "root";

    /// <summary>PostgreSQL's server binaries: TICKETS_PG_BIN, else the newest Debian install, else PATH.</summary>
    public static string FindBinDirectory()
    {
        var configured = Environment.GetEnvironmentVariable("TICKETS_PG_BIN");
        if (!string.IsNullOrEmpty(configured))
        {
            return configured;
        }
        var debian = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => (Dir: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
                .Where(d => File.Exists(Path.Combine(d.Dir, "initdb")))
                .OrderByDescending(d => d.Version)
                .Select(d => d.Dir)
                .FirstOrDefault()
            : null;
        if (debian is not null)
        {
            return debian;
        }
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
        return onPath ?? throw new InvalidOperationException(
            "PostgreSQL server binaries (initdb, pg_ctl) were not found. Install them (Debian: apt-get install postgresql), " +
            "set TICKETS_PG_BIN to their folder, or give a connection string to an existing server.");
    }

    /// <summary>
    /// <c>.local/{name}</c> in the repository when it can be found and, under root, reached by the postgres
    /// user (initdb runs as postgres); otherwise a folder under /var/tmp named after the repository path, as in a
    /// clone inside a private (mode 700) home.
    /// </summary>
    public static string DataDirectoryFor(string name)
    {
        var root = FindRepositoryRoot();
        if (root is not null && (!IsRoot || IsTraversableByOthers(root)))
        {
            return Path.Combine(root, ".local", name);
        }
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(root ?? Environment.CurrentDirectory)))[..12];
        return Path.Combine("/var/tmp", $"tickets-{name}-{key}");
    }

    private static string DefaultDataDirectory() => DataDirectoryFor("postgres");

    public static string? FindRepositoryRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Tickets.Functions.sln")))
                {
                    return dir.FullName;
                }
            }
        }
        return null;
    }

    private static bool IsTraversableByOthers(string path)
    {
        for (var dir = new DirectoryInfo(path); dir is not null; dir = dir.Parent)
        {
            if (!dir.UnixFileMode.HasFlag(UnixFileMode.OtherExecute))
            {
                return false;
            }
        }
        return true;
    }
}
