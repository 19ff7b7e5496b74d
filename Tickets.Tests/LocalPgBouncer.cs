// PgBouncer in transaction mode in front of a local PostgreSQL, as Azure Database for PostgreSQL Flexible Server
// runs its built-in one (port 6432): started from the machine's own binaries (Debian's `pgbouncer`, which
// scripts/ensure-postgres.sh installs), never Docker. Used by the tests (TICKETS_TEST_PGBOUNCER=1) and the benchmark.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Tickets.Tests;

/// <summary>
/// One PgBouncer process, a child of this process, on a free loopback port, with trust authentication (it fronts
/// the local trust-only cluster; never for anything but local work).
/// <para>
/// Startup parameters: PgBouncer 1.18 refuses a connection that sends one it does not track (<c>search_path</c>:
/// "unsupported startup parameter"), and listed in <c>ignore_startup_parameters</c> it would drop it silently,
/// so a client would work in the wrong schema. Azure's 1.21+ can track it (<c>track_extra_parameters</c>), but
/// the app does not rely on it: it uses the database's default search path. What needs a schema of its own (a
/// test class) gets a database alias instead (<see cref="AddDatabaseAsync"/>), whose server connections set their
/// search path when PgBouncer opens them (<c>connect_query</c>). That setting lives as long as the server
/// connection, so clients must not reset their sessions (<c>No Reset On Close=true</c>: Npgsql's reset on
/// close would be a <c>RESET ALL</c> on whatever server connection PgBouncer hands it).
/// </para>
/// </summary>
public sealed class LocalPgBouncer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;
    private readonly NpgsqlConnectionStringBuilder _server;
    private readonly Lock _gate = new();
    private readonly List<string> _aliases = [];

    private LocalPgBouncer(Process process, string directory, int port, NpgsqlConnectionStringBuilder server)
    {
        _process = process;
        _directory = directory;
        Port = port;
        _server = server;
    }

    public int Port { get; }

    public static string? FindBinary() =>
        new[] { Environment.GetEnvironmentVariable("TICKETS_PGBOUNCER"), "/usr/sbin/pgbouncer", "/usr/bin/pgbouncer" }
            .FirstOrDefault(path => !string.IsNullOrEmpty(path) && File.Exists(path));

    /// <summary>Starts PgBouncer in front of the server of <paramref name="serverConnectionString"/> (its database is the default alias).</summary>
    /// <param name="poolSize">Server connections per database alias (PgBouncer's <c>default_pool_size</c>).</param>
    public static async Task<LocalPgBouncer> StartAsync(string serverConnectionString, int poolSize = 20)
    {
        var binary = FindBinary() ?? throw new InvalidOperationException(
            "pgbouncer is not installed: scripts/ensure-postgres.sh installs it (apt-get install pgbouncer), or set TICKETS_PGBOUNCER.");
        var server = new NpgsqlConnectionStringBuilder(serverConnectionString);
        var directory = Path.Combine(Path.GetTempPath(), $"tickets-pgbouncer-{Environment.ProcessId}-{Guid.NewGuid():N}"[..48]);
        Directory.CreateDirectory(directory);
        var port = FreePort();
        await File.WriteAllTextAsync(Path.Combine(directory, "users.txt"), $"\"{server.Username}\" \"\"\n");
        await File.WriteAllTextAsync(Path.Combine(directory, "databases.ini"), "");
        var config = string.Create(CultureInfo.InvariantCulture, $"""
            [databases]
            {server.Database} = host={server.Host} port={server.Port} dbname={server.Database}
            %include {directory}/databases.ini

            [pgbouncer]
            listen_addr = 127.0.0.1
            listen_port = {port}
            unix_socket_dir =
            auth_type = trust
            auth_file = {directory}/users.txt
            admin_users = {server.Username}
            pool_mode = transaction
            default_pool_size = {poolSize}
            max_client_conn = 5000
            ; Npgsql sends none of these today; listed so a driver that does is not refused.
            ignore_startup_parameters = extra_float_digits
            server_reset_query =
            logfile = {directory}/pgbouncer.log
            pidfile = {directory}/pgbouncer.pid
            """);
        var configFile = Path.Combine(directory, "pgbouncer.ini");
        await File.WriteAllTextAsync(configFile, config);
        var start = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true };
        // PgBouncer refuses to run as root; the local cluster runs as postgres then too.
        if (Environment.UserName == "root" && !OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
            start.ArgumentList.Add("-u");
            start.ArgumentList.Add("postgres");
        }
        start.ArgumentList.Add(configFile);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var bouncer = new LocalPgBouncer(process, directory, port, server);
        // A test run's PgBouncer is shared by all its classes and ends with the process.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => bouncer.DisposeAsync().AsTask().GetAwaiter().GetResult();
        for (var attempt = 0; attempt < 100; attempt++)
        {
            if (process.HasExited)
            {
                break;
            }
            try
            {
                await using var connection = new NpgsqlConnection(bouncer.ConnectionString(server.Database!));
                await connection.OpenAsync();
                return bouncer;
            }
            catch (Exception ex) when (ex is NpgsqlException or SocketException)
            {
                await Task.Delay(100);
            }
        }
        var log = File.Exists(Path.Combine(directory, "pgbouncer.log")) ? await File.ReadAllTextAsync(Path.Combine(directory, "pgbouncer.log")) : "";
        await bouncer.DisposeAsync();
        throw new InvalidOperationException($"pgbouncer did not accept connections on port {port}: {log}");
    }

    /// <summary>
    /// A connection string through PgBouncer to <paramref name="alias"/>: no session reset on close (see the class
    /// comment) and no automatic preparation.
    /// </summary>
    public string ConnectionString(string alias) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = _server.Username,
        Database = alias,
        NoResetOnClose = true,
        MaxAutoPrepare = 0,
    }.ConnectionString;

    /// <summary>
    /// A database alias <paramref name="alias"/> for the server's database whose connections use
    /// <paramref name="searchPath"/>; PgBouncer reads it on a reload (SIGHUP).
    /// </summary>
    public async Task<string> AddDatabaseAsync(string alias, string searchPath)
    {
        string lines;
        lock (_gate)
        {
            _aliases.Add(string.Create(CultureInfo.InvariantCulture,
                $"{alias} = host={_server.Host} port={_server.Port} dbname={_server.Database} connect_query='set search_path = {searchPath}'"));
            lines = string.Join('\n', _aliases) + "\n";
            // Written aside and renamed into place: PgBouncer may be reading the file for an earlier reload, and a
            // file caught half written drops every alias it lacks ("08P01: database removed" to their clients).
            var file = Path.Combine(_directory, "databases.ini");
            File.WriteAllText(file + ".new", lines);
            File.Move(file + ".new", file, overwrite: true);
            Reload();
        }
        // The reload is asynchronous: wait until the alias answers.
        var connectionString = ConnectionString(alias);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync();
                return connectionString;
            }
            catch (PostgresException) when (attempt < 100)
            {
                await Task.Delay(50);
            }
        }
    }

    private void Reload()
    {
        using var kill = Process.Start("kill", ["-HUP", _process.Id.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already ended, or never started.
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
        return ValueTask.CompletedTask;
    }
}
