// The worker process as the real host starts it (worker.config.json's executable and worker path, the
// host's command-line arguments and environment), fenced so that it never outlives the test process.
using System.Diagnostics;
using System.Text.Json;

namespace Tickets.Tests.StandInHost;

internal sealed class WorkerProcess
{
    private readonly Process _process;
    private readonly ManualResetEventSlim _release;
    private readonly string _home;

    private WorkerProcess(Process process, ManualResetEventSlim release, string home)
    {
        _process = process;
        _release = release;
        _home = home;
        Exited = _process.WaitForExitAsync().ContinueWith(_ => _process.ExitCode, TaskScheduler.Default);
    }

    public int Id => _process.Id;

    /// <summary>Completes with the exit code when the worker exits.</summary>
    public Task<int> Exited { get; }

    public static WorkerProcess Start(string appDirectory, Uri hostUri, string workerId, IReadOnlyDictionary<string, string> appSettings, HostLog log)
    {
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(appDirectory, "worker.config.json")));
        var description = config.RootElement.GetProperty("description");
        // "dotnet" for a framework-dependent app; a self-contained one names its own executable under {WorkerRoot},
        // which the host replaces with the app's directory.
        var executable = description.GetProperty("defaultExecutablePath").GetString()!
            .Replace("{WorkerRoot}", Path.TrimEndingDirectorySeparator(appDirectory) + Path.DirectorySeparatorChar, StringComparison.Ordinal);
        var workerPath = Path.Combine(appDirectory, description.GetProperty("defaultWorkerPath").GetString()!);

        // ASP.NET Core keeps data-protection keys under $HOME: a folder of the worker's own, not the real home.
        var home = Directory.CreateTempSubdirectory("tickets-worker-home-").FullName;
        // setpriv asks the kernel to kill the worker when the thread that started it ends; that thread lives until
        // the worker is stopped, so a test process that dies (even by SIGKILL) takes its workers with it.
        var start = new ProcessStartInfo("setpriv")
        {
            WorkingDirectory = appDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["--pdeathsig", "KILL", "--", executable, workerPath,
            "--functions-uri", hostUri.ToString(), "--functions-worker-id", workerId, "--functions-request-id", Guid.NewGuid().ToString(),
            "--functions-grpc-max-message-length", int.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            start.ArgumentList.Add(argument);
        }
        var environment = start.Environment;
        foreach (var key in environment.Keys.Where(k => k.StartsWith("ConnectionStrings", StringComparison.OrdinalIgnoreCase)
            || k.StartsWith("Jwt", StringComparison.OrdinalIgnoreCase) || k.StartsWith("Tickets__", StringComparison.OrdinalIgnoreCase)
            || k.StartsWith("RateLimits", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            environment.Remove(key);
        }
        environment["HOME"] = home;
        environment["FUNCTIONS_APPLICATION_DIRECTORY"] = appDirectory;
        environment["FUNCTIONS_WORKER_DIRECTORY"] = appDirectory;
        environment["FUNCTIONS_WORKER_RUNTIME"] = "dotnet-isolated";
        foreach (var (key, value) in appSettings)
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        Process? process = null;
        Exception? failure = null;
        using var started = new ManualResetEventSlim();
        var release = new ManualResetEventSlim();
        var owner = new Thread(() =>
        {
            try
            {
                process = Process.Start(start)!;
            }
            catch (Exception ex)
            {
                failure = ex;
            }
            started.Set();
            if (process is not null)
            {
                release.Wait();
            }
        })
        { IsBackground = true, Name = "Functions worker owner" };
        owner.Start();
        started.Wait();
        if (failure is not null)
        {
            throw new InvalidOperationException("The Functions worker could not be started (setpriv is part of util-linux).", failure);
        }
        process!.OutputDataReceived += (_, e) => log.Add("worker", e.Data);
        process.ErrorDataReceived += (_, e) => log.Add("worker stderr", e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new WorkerProcess(process, release, home);
    }

    /// <summary>Waits for the worker to exit after WorkerTerminate, then kills it if it has not.</summary>
    public async Task StopAsync(TimeSpan wait)
    {
        try
        {
            await Exited.WaitAsync(wait);
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
            await Exited;
        }
        finally
        {
            _release.Set();
            _process.Dispose();
            try
            {
                Directory.Delete(_home, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Ends the thread that started the worker, as a dying test process would (for the orphan test).</summary>
    internal void ReleaseOwnerThread() => _release.Set();
}
