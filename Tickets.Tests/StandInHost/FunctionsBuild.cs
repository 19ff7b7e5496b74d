using System.Diagnostics;

namespace Tickets.Tests.StandInHost;

/// <summary>
/// The Tickets.Functions build output the stand-in host runs, built once per test run in this test assembly's
/// configuration (after scripts/test.sh, an up-to-date no-op build). TICKETS_TEST_FUNCTIONS_APP names another
/// folder instead (relative to the repository), such as a <c>dotnet publish</c> output, to run the suite against
/// the app as it deploys.
/// </summary>
public static class FunctionsBuild
{
    private static readonly Lazy<string> Output = new(() =>
        Environment.GetEnvironmentVariable("TICKETS_TEST_FUNCTIONS_APP") is { Length: > 0 } app ? Path.GetFullPath(app, Repository.Root) : Build());

    public static string OutputDirectory => Output.Value;

    private static string Build()
    {
        var configuration = typeof(FunctionsBuild).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyConfigurationAttribute), false)
            .Cast<System.Reflection.AssemblyConfigurationAttribute>().Single().Configuration;
        var project = Path.Combine(Repository.Root, "Tickets.Functions", "Tickets.Functions.csproj");
        using var build = Process.Start(new ProcessStartInfo("dotnet", ["build", project, "-c", configuration, "-nologo", "-v", "quiet"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = build.StandardOutput.ReadToEndAsync();
        var error = build.StandardError.ReadToEndAsync();
        build.WaitForExit();
        if (build.ExitCode != 0)
        {
            throw new InvalidOperationException($"Building Tickets.Functions failed:\n{output.Result}\n{error.Result}");
        }
        return Path.Combine(Repository.Root, "Tickets.Functions", "bin", configuration, "net10.0");
    }
}
