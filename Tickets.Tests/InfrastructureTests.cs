using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Tickets.Api;

namespace Tickets.Tests;

/// <summary>
/// The Bicep in infra/ against the app: compiled with the Bicep CLI from NuGet, the ARM JSON is read for the
/// Functions app's settings (the `appSettings` variable of the template that declares Microsoft.Web/sites).
/// </summary>
public sealed class InfrastructureTests
{
    private static readonly Lazy<JsonElement> Template = new(() => JsonDocument.Parse(Bicep("build", "infra/main.bicep", "--stdout").Output).RootElement.Clone());

    private static string BicepPath => typeof(InfrastructureTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "BicepPath").Value!;

    private static (int ExitCode, string Output, string Error) Bicep(params string[] args)
    {
        var start = new ProcessStartInfo(BicepPath, args)
        {
            WorkingDirectory = Repository.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }

    /// <summary>Every template in the compiled output: main.bicep and each module's nested template.</summary>
    private static IEnumerable<JsonElement> Templates(JsonElement node)
    {
        if (node.ValueKind == JsonValueKind.Object)
        {
            if (node.TryGetProperty("resources", out _) && node.TryGetProperty("$schema", out _))
            {
                yield return node;
            }
            foreach (var child in node.EnumerateObject().SelectMany(p => Templates(p.Value)))
            {
                yield return child;
            }
        }
        else if (node.ValueKind == JsonValueKind.Array)
        {
            foreach (var child in node.EnumerateArray().SelectMany(Templates))
            {
                yield return child;
            }
        }
    }

    /// <summary>The one nested template that declares resources of this type.</summary>
    private static JsonElement TemplateDeclaring(string type) =>
        Templates(Template.Value).Single(t => t.GetProperty("resources").ValueKind == JsonValueKind.Array
            && Resources(t).Any(r => r.GetProperty("type").GetString() == type));

    /// <summary>The nested template that declares the function app(s).</summary>
    private static JsonElement FunctionTemplate() => TemplateDeclaring("Microsoft.Web/sites");

    private static IEnumerable<JsonElement> Resources(JsonElement template)
    {
        var resources = template.GetProperty("resources");
        return resources.ValueKind == JsonValueKind.Array ? resources.EnumerateArray() : resources.EnumerateObject().Select(p => p.Value);
    }

    private static Dictionary<string, string> AppSettings() => FunctionTemplate().GetProperty("variables").GetProperty("appSettings")
        .EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("value").GetString()!);

    private static JsonElement FlexSite() => Resources(FunctionTemplate())
        .Single(r => r.GetProperty("type").GetString() == "Microsoft.Web/sites" && r.GetProperty("properties").TryGetProperty("functionAppConfig", out _));

    [Fact]
    public void Bicep_builds_and_lints_without_errors_or_warnings()
    {
        var build = Bicep("build", "infra/main.bicep", "--stdout");
        Assert.True(build.ExitCode == 0, build.Error);
        Assert.DoesNotContain("warning", build.Error, StringComparison.OrdinalIgnoreCase);
        foreach (var file in Directory.GetFiles(Path.Combine(Repository.Root, "infra"), "*.bicep", SearchOption.AllDirectories))
        {
            var lint = Bicep("lint", file);
            Assert.True(lint.ExitCode == 0 && !(lint.Output + lint.Error).Contains("warning", StringComparison.OrdinalIgnoreCase),
                $"{file}: {lint.Output}{lint.Error}");
        }
    }

    [Fact]
    public void Every_setting_the_app_reads_in_Azure_is_provided_by_the_bicep()
    {
        var settings = AppSettings();
        Assert.All(AppSettingNames.RequiredInAzure, name => Assert.True(settings.ContainsKey(name), $"{name} is not set by infra/"));
        var flexSite = FlexSite().GetProperty("properties").GetProperty("siteConfig").GetProperty("appSettings").GetString();
        Assert.Equal("[variables('appSettings')]", flexSite);
    }

    [Fact]
    public void Function_app_runs_dotnet_isolated_10_0_on_flex_consumption()
    {
        var runtime = FlexSite().GetProperty("properties").GetProperty("functionAppConfig").GetProperty("runtime");
        Assert.Equal("dotnet-isolated", runtime.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.String, runtime.GetProperty("version").ValueKind);
        Assert.Equal("10.0", runtime.GetProperty("version").GetString());
    }

    [Fact]
    public void Always_ready_instances_are_a_parameter_off_by_default_and_serve_the_http_functions()
    {
        // Billed while idle, so off unless an operator raises it (before an on-sale); "http" is the group of every
        // HTTP-triggered function on Flex Consumption.
        var parameter = Template.Value.GetProperty("parameters").GetProperty("alwaysReadyInstances");
        Assert.Equal(0, parameter.GetProperty("defaultValue").GetInt32());
        Assert.Equal(0, parameter.GetProperty("minValue").GetInt32());
        var alwaysReady = FlexSite().GetProperty("properties").GetProperty("functionAppConfig").GetProperty("scaleAndConcurrency")
            .GetProperty("alwaysReady").GetString()!;
        Assert.Contains("parameters('alwaysReadyInstances')", alwaysReady, StringComparison.Ordinal);
        Assert.Contains("'name', 'http'", alwaysReady, StringComparison.Ordinal);
        Assert.Contains("'instanceCount', parameters('alwaysReadyInstances')", alwaysReady, StringComparison.Ordinal);
    }

    [Fact]
    public void Timer_storage_is_identity_based_without_keys()
    {
        var settings = AppSettings();
        Assert.Equal("managedidentity", settings["AzureWebJobsStorage__credential"]);
        Assert.True(settings.ContainsKey("AzureWebJobsStorage__accountName"));
        Assert.DoesNotContain("AzureWebJobsStorage", settings.Keys);
        Assert.DoesNotContain(settings.Values, v => v.Contains("AccountKey", StringComparison.OrdinalIgnoreCase) || v.Contains("listKeys", StringComparison.Ordinal));
    }

    [Fact]
    public void Secrets_come_from_key_vault_references()
    {
        var settings = AppSettings();
        Assert.StartsWith("[format('@Microsoft.KeyVault(SecretUri=", settings[AppSettingNames.ConnectionString], StringComparison.Ordinal);
        Assert.StartsWith("[format('@Microsoft.KeyVault(SecretUri=", settings[AppSettingNames.JwtSigningKey], StringComparison.Ordinal);
    }

    [Fact]
    public void PgBouncer_pools_by_transaction_and_keeps_track_of_prepared_statements()
    {
        static IEnumerable<JsonElement> All(JsonElement node) => node.ValueKind switch
        {
            JsonValueKind.Object => node.EnumerateObject().SelectMany(p => All(p.Value)).Prepend(node),
            JsonValueKind.Array => node.EnumerateArray().SelectMany(All),
            _ => [],
        };
        var settings = All(Template.Value)
            .Where(n => n.ValueKind == JsonValueKind.Object && n.TryGetProperty("type", out var type)
                && type.GetString() == "Microsoft.DBforPostgreSQL/flexibleServers/configurations")
            .ToDictionary(
                n => n.GetProperty("name").GetString()!.Split('\'')[^2],
                n => n.GetProperty("properties").GetProperty("value").GetString()!);

        Assert.Equal("true", settings["pgbouncer.enabled"]);
        Assert.Equal("transaction", settings["pgbouncer.pool_mode"]);
        // The whole-batch hold and confirm statements are prepared (ReservationEngine.PreparedBatchAsync).
        Assert.True(int.Parse(settings["pgbouncer.max_prepared_statements"], CultureInfo.InvariantCulture) >= 10);
    }

    [Fact]
    public void Local_settings_sample_covers_the_app_settings_with_local_defaults()
    {
        using var sample = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.Root, "local.settings.sample.json")),
            new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        Assert.False(sample.RootElement.GetProperty("IsEncrypted").GetBoolean());
        var values = sample.RootElement.GetProperty("Values");
        Assert.Equal("UseDevelopmentStorage=true", values.GetProperty("AzureWebJobsStorage").GetString());
        Assert.Equal("dotnet-isolated", values.GetProperty("FUNCTIONS_WORKER_RUNTIME").GetString());
        Assert.All(AppSettingNames.Application, name =>
            Assert.False(string.IsNullOrWhiteSpace(values.TryGetProperty(name, out var v) ? v.GetString() : null), $"{name} missing"));
        Assert.Null(new JwtOptions { SigningKey = values.GetProperty(AppSettingNames.JwtSigningKey).GetString()! }.Problem());
    }

    private const string FlexibleServer = "Microsoft.DBforPostgreSQL/flexibleServers";

    /// <summary>The connection string the app gets, as the ARM expression the vault module receives.</summary>
    private static string AppConnectionStringExpression() =>
        Templates(Template.Value).SelectMany(Resources)
            .Where(r => r.GetProperty("type").GetString() == "Microsoft.Resources/deployments")
            .Select(r => r.GetProperty("properties").GetProperty("parameters"))
            .Single(p => p.TryGetProperty("databaseConnectionString", out _))
            .GetProperty("databaseConnectionString").GetProperty("value").GetString()!;

    [Fact]
    public void PgBouncer_and_the_app_port_follow_the_tier_and_the_default_tier_has_PgBouncer()
    {
        // The built-in PgBouncer exists on General Purpose and Memory Optimized only; Burstable has none.
        var parameters = Template.Value.GetProperty("parameters");
        Assert.Equal("GeneralPurpose", parameters.GetProperty("postgresSkuTier").GetProperty("defaultValue").GetString());
        Assert.StartsWith("Standard_D", parameters.GetProperty("postgresSkuName").GetProperty("defaultValue").GetString(), StringComparison.Ordinal);

        var database = TemplateDeclaring(FlexibleServer);
        Assert.Equal("[not(equals(parameters('skuTier'), 'Burstable'))]", database.GetProperty("variables").GetProperty("pooled").GetString());
        var pgbouncer = Resources(database).Where(r => r.GetProperty("name").GetString()!.Contains("'pgbouncer.", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(pgbouncer);
        Assert.All(pgbouncer, r => Assert.Equal("[variables('pooled')]", r.GetProperty("condition").GetString()));
        Assert.Equal("[if(variables('pooled'), 6432, 5432)]", database.GetProperty("outputs").GetProperty("port").GetProperty("value").GetString());
        Assert.Equal("[variables('pooled')]", database.GetProperty("outputs").GetProperty("pooled").GetProperty("value").GetString());

        // The app's port and its transaction-pooling settings come from the same variable, never a literal.
        var connection = AppConnectionStringExpression();
        Assert.Contains("Port={1};", connection, StringComparison.Ordinal);
        Assert.Contains(".outputs.port.value", connection, StringComparison.Ordinal);
        Assert.Contains("if(reference(resourceId('Microsoft.Resources/deployments', 'database'), '2025-04-01').outputs.pooled.value, 'No Reset On Close=true;Max Auto Prepare=0;', '')", connection, StringComparison.Ordinal);
        Assert.DoesNotContain("6432", connection, StringComparison.Ordinal);
        Assert.DoesNotContain("5432", connection, StringComparison.Ordinal);
    }

    [Fact]
    public void Writes_to_the_database_server_run_one_at_a_time()
    {
        // Flexible Server answers a concurrent write with ServerIsBusy. ARM drops a dependency on a conditional
        // resource that is skipped, so each child must wait for every child declared before it, not only the last.
        static (string Type, string Name) Key(string type, string nameExpression) =>
            (type, nameExpression.Split(", ")[^1].TrimEnd(']', ')'));

        var children = Resources(TemplateDeclaring(FlexibleServer))
            .Where(r => r.GetProperty("type").GetString()!.StartsWith(FlexibleServer + "/", StringComparison.Ordinal))
            .ToList();
        Assert.Contains(children, r => r.GetProperty("type").GetString() == FlexibleServer + "/databases");
        Assert.Contains(children, r => r.GetProperty("type").GetString() == FlexibleServer + "/configurations");
        Assert.Contains(children, r => r.GetProperty("type").GetString() == FlexibleServer + "/firewallRules");

        for (var i = 0; i < children.Count; i++)
        {
            var dependsOn = children[i].TryGetProperty("dependsOn", out var d)
                ? d.EnumerateArray().Select(e => e.GetString()!)
                    .Where(e => e.StartsWith("[resourceId('" + FlexibleServer + "/", StringComparison.Ordinal))
                    .Select(e => Key(e["[resourceId('".Length..e.IndexOf("',", StringComparison.Ordinal)], e))
                    .ToHashSet()
                : [];
            var name = children[i].GetProperty("name").GetString()!;
            foreach (var earlier in children.Take(i))
            {
                var key = Key(earlier.GetProperty("type").GetString()!, earlier.GetProperty("name").GetString()!);
                Assert.True(dependsOn.Contains(key), $"{name} does not wait for {key}");
            }
        }
    }

    private static string Workflow => File.ReadAllText(Path.Combine(Repository.Root, ".github", "workflows", "ci-cd.yml"));

    private static (int ExitCode, string Output, string Error) DeploymentOutputs(string outputsJson, params string[] names)
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, outputsJson);
            var start = new ProcessStartInfo("bash", [Path.Combine(Repository.Root, "scripts", "deployment-outputs.sh"), file, .. names])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            return (process.ExitCode, output.Result, error.Result);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void The_workflow_reads_deployment_outputs_whatever_case_they_come_back_in()
    {
        const string outputs = """
            {
              "azurE_RESOURCE_GROUP": { "type": "String", "value": "rg-tickets-dev" },
              "aZURE_FUNCTION_APP_NAME": { "type": "String", "value": "func-tickets-abc" },
              "api_base_url": { "type": "String", "value": "https://func-tickets-abc.azurewebsites.net/api" }
            }
            """;

        var read = DeploymentOutputs(outputs, "AZURE_RESOURCE_GROUP", "AZURE_FUNCTION_APP_NAME", "API_BASE_URL");

        Assert.True(read.ExitCode == 0, read.Error);
        Assert.Equal(
            ["AZURE_RESOURCE_GROUP=rg-tickets-dev", "AZURE_FUNCTION_APP_NAME=func-tickets-abc", "API_BASE_URL=https://func-tickets-abc.azurewebsites.net/api"],
            read.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("""{ "AZURE_RESOURCE_GROUP": { "type": "String", "value": "rg" } }""")]
    [InlineData("""{ "AZURE_RESOURCE_GROUP": { "type": "String", "value": "rg" }, "POSTGRES_HOST": { "type": "String", "value": "" } }""")]
    [InlineData("""{ "AZURE_RESOURCE_GROUP": { "type": "String", "value": "rg" }, "POSTGRES_HOST": { "type": "String", "value": null } }""")]
    [InlineData("""{ "AZURE_RESOURCE_GROUP": { "type": "String", "value": "rg" }, "POSTGRES_HOST": { "type": "String", "value": "a" }, "postgres_host": { "type": "String", "value": "b" } }""")]
    public void The_workflow_stops_on_a_missing_empty_or_ambiguous_output_instead_of_passing_null_on(string outputs)
    {
        var read = DeploymentOutputs(outputs, "AZURE_RESOURCE_GROUP", "POSTGRES_HOST");

        Assert.NotEqual(0, read.ExitCode);
        Assert.Contains("POSTGRES_HOST", read.Error, StringComparison.Ordinal);
        Assert.Equal("", read.Output);
    }

    [Fact]
    public void Every_output_the_workflow_uses_is_read_through_the_lookup_and_declared_by_the_bicep()
    {
        var workflow = Workflow;
        var used = System.Text.RegularExpressions.Regex.Matches(workflow, @"steps\.infra\.outputs\.([A-Z_]+)")
            .Select(m => m.Groups[1].Value).ToHashSet();
        var lookup = workflow[workflow.IndexOf("scripts/deployment-outputs.sh", StringComparison.Ordinal)..];
        lookup = lookup[..lookup.IndexOf("$GITHUB_OUTPUT", StringComparison.Ordinal)];
        var declared = Template.Value.GetProperty("outputs").EnumerateObject().Select(o => o.Name).ToHashSet(StringComparer.Ordinal);

        Assert.NotEmpty(used);
        Assert.All(used, name =>
        {
            Assert.Contains(name, lookup, StringComparison.Ordinal);
            Assert.Contains(name, declared);
        });
        Assert.DoesNotContain("jq -r", workflow, StringComparison.Ordinal);
    }

    [Fact]
    public void The_workflow_firewall_rule_does_not_depend_on_the_postgres_cli_arguments()
    {
        // Azure CLI 2.86 removes --rule-name and turns -n into the rule's name in `az postgres flexible-server
        // firewall-rule`; the generic resource commands mean the same in every CLI version.
        var workflow = Workflow;
        Assert.DoesNotContain("flexible-server firewall-rule", workflow, StringComparison.Ordinal);
        Assert.DoesNotContain("--rule-name", workflow, StringComparison.Ordinal);
        Assert.Contains("az resource create \"${rule[@]}\"", workflow, StringComparison.Ordinal);
        Assert.Contains("az resource delete \"${rule[@]}\"", workflow, StringComparison.Ordinal);
    }

    [Fact]
    public void Application_insights_takes_telemetry_from_the_app_identity_only()
    {
        var monitoring = TemplateDeclaring("Microsoft.Insights/components");
        var component = Resources(monitoring).Single(r => r.GetProperty("type").GetString() == "Microsoft.Insights/components");
        Assert.True(component.GetProperty("properties").GetProperty("DisableLocalAuth").GetBoolean());

        // Monitoring Metrics Publisher, on the component, for the identity the app authenticates as.
        var role = Resources(monitoring).Single(r => r.GetProperty("type").GetString() == "Microsoft.Authorization/roleAssignments");
        Assert.Equal("[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', variables('monitoringMetricsPublisher'))]",
            role.GetProperty("properties").GetProperty("roleDefinitionId").GetString());
        Assert.Equal("3913510d-42f4-4e42-8a64-420c390055eb", monitoring.GetProperty("variables").GetProperty("monitoringMetricsPublisher").GetString());
        Assert.Contains("Microsoft.Insights/components", role.GetProperty("scope").GetString(), StringComparison.Ordinal);
        Assert.Equal("[parameters('publisherPrincipalId')]", role.GetProperty("properties").GetProperty("principalId").GetString());

        Assert.Equal("[format('ClientId={0};Authorization=AAD', parameters('identityClientId'))]",
            AppSettings()[AppSettingNames.AppInsightsAuthenticationString]);
    }

    [Fact]
    public void Worker_log_levels_are_set_where_the_isolated_worker_reads_them()
    {
        var settings = AppSettings();
        Assert.Equal("Information", settings["Logging__LogLevel__Default"]);
        // The framework's and the worker's own Information logs (every request, every invocation) stay out.
        Assert.Equal("Warning", settings["Logging__LogLevel__Microsoft"]);
        Assert.DoesNotContain(settings.Keys, key => key.Contains('.', StringComparison.Ordinal));
        Assert.Equal("Warning", settings["Logging__LogLevel__Npgsql"]);
    }

    [Fact]
    public void Flex_and_classic_consumption_plans_have_names_of_their_own_and_classic_uses_the_isolated_placeholder()
    {
        var function = FunctionTemplate();
        var plans = Resources(function).Where(r => r.GetProperty("type").GetString() == "Microsoft.Web/serverfarms").ToList();
        Assert.Equal(2, plans.Count);
        Assert.NotEqual(plans[0].GetProperty("name").GetString(), plans[1].GetProperty("name").GetString());

        var windowsSite = Resources(function).Single(r => r.GetProperty("type").GetString() == "Microsoft.Web/sites"
            && !r.GetProperty("properties").TryGetProperty("functionAppConfig", out _));
        var windowsSettings = windowsSite.GetProperty("properties").GetProperty("siteConfig").GetProperty("appSettings").GetString()!;
        Assert.Contains("'name', 'WEBSITE_USE_PLACEHOLDER_DOTNETISOLATED', 'value', '1'", windowsSettings, StringComparison.Ordinal);
    }

    [Fact]
    public void The_app_connects_as_its_own_login_and_verifies_the_server_certificate()
    {
        var connection = AppConnectionStringExpression();
        Assert.Contains("SSL Mode=VerifyFull;", connection, StringComparison.Ordinal);
        Assert.Contains("parameters('postgresAppLogin')", connection, StringComparison.Ordinal);
        Assert.Contains("parameters('postgresAppPassword')", connection, StringComparison.Ordinal);
        Assert.DoesNotContain("postgresAdmin", connection, StringComparison.Ordinal);

        // The migration step keeps the administrator, verifies the certificate too, and creates the app's login.
        var migrate = File.ReadAllText(Path.Combine(Repository.Root, "scripts", "migrate-azure.sh"));
        Assert.Contains("SSL Mode=VerifyFull", migrate, StringComparison.Ordinal);
        Assert.Contains("-- migrate", migrate, StringComparison.Ordinal);
        Assert.Contains("-- create-app-role \"${POSTGRES_APP_LOGIN}\"", migrate, StringComparison.Ordinal);
        Assert.Contains("POSTGRES_APP_LOGIN", Template.Value.GetProperty("outputs").EnumerateObject().Select(o => o.Name));
    }
}
