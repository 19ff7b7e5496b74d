using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tickets.Api;

namespace Tickets.Tests;

public abstract class AuthApiTests(ApiHost host, ITestOutputHelper output) : HostTests(host, output)
{
    public sealed class Server(ServerHost host, ITestOutputHelper output) : AuthApiTests(host, output), IClassFixture<ServerHost>;

    public sealed class Functions(FunctionsHost host, ITestOutputHelper output) : AuthApiTests(host, output), IClassFixture<FunctionsHost>;

    [Fact]
    public async Task Register_returns_201_then_409_for_the_same_email_in_any_case()
    {
        var email = $"{Guid.NewGuid():N}@Example.test";
        using var first = await Host.Client.PostAsJsonAsync("auth/register", new { email, password = "password-1" });
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var user = await first.Content.ReadFromJsonAsync<UserResponse>();
        Assert.Equal(email, user!.Email);
        Assert.Equal("user", user.Role);

        using var again = await Host.Client.PostAsJsonAsync("auth/register", new { email = email.ToUpperInvariant(), password = "password-2" });
        await ProblemAssert.IsProblemAsync(again, 409, ProblemCodes.EmailTaken);
    }

    [Theory]
    [InlineData("""{"email":"not-an-email","password":"password-1"}""")]
    [InlineData("""{"email":"a@b.c","password":"short"}""")]
    [InlineData("""{"email":"a@b.c"}""")]
    [InlineData("""{"password":"password-1"}""")]
    public async Task Register_refuses_invalid_credentials_with_400(string body)
    {
        using var response = await Host.Client.PostAsync("auth/register", new StringContent(body, Encoding.UTF8, "application/json"));
        await ProblemAssert.IsProblemAsync(response, 400, ProblemCodes.InvalidRequest);
    }

    [Fact]
    public async Task Register_refuses_a_client_chosen_role()
    {
        using var response = await Host.Client.PostAsync("auth/register", new StringContent(
            """{"email":"x@y.z","password":"password-1","role":"admin"}""", Encoding.UTF8, "application/json"));
        await ProblemAssert.IsProblemAsync(response, 400, ProblemCodes.InvalidJson);
    }

    [Fact]
    public async Task Token_accepts_json_and_oauth_form_and_refuses_a_wrong_password_with_401()
    {
        var email = $"{Guid.NewGuid():N}@example.test";
        (await Host.Client.PostAsJsonAsync("auth/register", new { email, password = "password-1" })).Dispose();

        using var json = await Host.Client.PostAsJsonAsync("auth/token", new { email, password = "password-1" });
        Assert.Equal(HttpStatusCode.OK, json.StatusCode);
        var token = await json.Content.ReadFromJsonAsync<IssuedToken>();
        Assert.Equal("Bearer", token!.TokenType);
        Assert.Equal(3600, token.ExpiresIn);

        using var form = await Host.Client.PostAsync("auth/token", new FormUrlEncodedContent(
            new Dictionary<string, string> { ["username"] = email, ["password"] = "password-1" }));
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);

        using var wrong = await Host.Client.PostAsJsonAsync("auth/token", new { email, password = "password-2" });
        await ProblemAssert.IsProblemAsync(wrong, 401, ProblemCodes.InvalidCredentials);
        using var unknown = await Host.Client.PostAsJsonAsync("auth/token", new { email = "nobody@example.test", password = "password-1" });
        await ProblemAssert.IsProblemAsync(unknown, 401, ProblemCodes.InvalidCredentials);
    }

    [Fact]
    public async Task Guest_gets_a_token_that_can_list_its_reservations()
    {
        var token = await Host.GuestTokenAsync();
        using var client = Host.NewClient(token);
        var page = await client.GetFromJsonAsync<Page<ReservationResponse>>("reservations");
        Assert.Empty(page!.Items);
    }

    public static TheoryData<string> ForgedTokens()
    {
        var now = DateTime.UtcNow;
        string Sign(string key, string issuer = ApiHost.Issuer, string audience = ApiHost.Audience,
            DateTime? expires = null, string alg = SecurityAlgorithms.HmacSha256, string role = "admin") =>
            new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
            {
                Issuer = issuer,
                Audience = audience,
                IssuedAt = (expires ?? now.AddHours(1)).AddHours(-2),
                NotBefore = (expires ?? now.AddHours(1)).AddHours(-2),
                Expires = expires ?? now.AddHours(1),
                Claims = new Dictionary<string, object> { ["sub"] = Guid.NewGuid().ToString(), ["role"] = role },
                SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), alg),
            });
        var valid = Sign(ApiHost.SigningKey);
        var parts = valid.Split('.');
        static string B64(string s) => Base64UrlEncoder.Encode(s);
        var payload = JsonDocument.Parse(Base64UrlEncoder.Decode(parts[1])).RootElement.GetRawText();
        return new TheoryData<string>
        {
            Sign("a-completely-different-signing-key-0123456789-abcdef"),
            Sign(ApiHost.SigningKey, audience: "someone-else"),
            Sign(ApiHost.SigningKey, issuer: "someone-else"),
            Sign(ApiHost.SigningKey, expires: now.AddMinutes(-5)),
            Sign(ApiHost.SigningKey, alg: SecurityAlgorithms.HmacSha512),
            Sign(ApiHost.SigningKey, role: "superuser"),
            $"{B64("""{"alg":"none","typ":"JWT"}""")}.{parts[1]}.",
            $"{B64("""{"alg":"none","typ":"JWT"}""")}.{parts[1]}",
            $"{parts[0]}.{B64(payload.Replace("\"admin\"", "\"user\"", StringComparison.Ordinal))}.{parts[2]}",
            $"{parts[0]}.{parts[1]}.{parts[2][..^4]}AAAA",
            "not-a-token",
            "",
        };
    }

    [Theory]
    [MemberData(nameof(ForgedTokens))]
    public async Task Forged_expired_or_foreign_tokens_get_401_with_a_bearer_challenge(string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "reservations");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        using var response = await Host.Client.SendAsync(request);
        await ProblemAssert.IsProblemAsync(response, 401, ProblemCodes.Unauthorized);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task Look_alike_spellings_of_a_registered_address_are_taken_and_invisible_characters_are_refused()
    {
        var local = $"cafe-{Guid.NewGuid():N}";
        using var original = await Host.Client.PostAsJsonAsync("auth/register", new { email = $"{local}\u00E9@example.test", password = "correct horse" });
        Assert.Equal(HttpStatusCode.Created, original.StatusCode);

        foreach (var lookAlike in new[]
        {
            $"{local}e\u0301@example.test", // decomposed e-acute
            $"\uFF43{local[1..]}\u00E9@example.test", // fullwidth c
            $"{local}\u00C9@EXAMPLE.TEST",
        })
        {
            using var taken = await Host.Client.PostAsJsonAsync("auth/register", new { email = lookAlike, password = "correct horse" });
            await ProblemAssert.IsProblemAsync(taken, 409, ProblemCodes.EmailTaken);
        }
        using var invisible = await Host.Client.PostAsJsonAsync("auth/register", new { email = $"\u200B{local}\u00E9@example.test", password = "correct horse" });
        await ProblemAssert.IsProblemAsync(invisible, 400, ProblemCodes.InvalidRequest);
    }

    [Fact]
    public async Task Signing_in_with_a_look_alike_spelling_signs_in_to_the_one_account_it_looks_like()
    {
        var local = $"victim-kik-{Guid.NewGuid():N}";
        using var register = await Host.Client.PostAsJsonAsync("auth/register", new { email = $"{local}@example.test", password = "correct horse" });
        var user = await register.Content.ReadFromJsonAsync<UserResponse>();

        using var kelvin = await Host.Client.PostAsJsonAsync("auth/token", new { email = $"{local.Replace("kik", "\u212Aik", StringComparison.Ordinal)}@example.test", password = "correct horse" });
        Assert.Equal(HttpStatusCode.OK, kelvin.StatusCode);
        var token = (await kelvin.Content.ReadFromJsonAsync<IssuedToken>())!.AccessToken;
        Assert.Equal(user!.Id.ToString(), new JsonWebToken(token).Subject);
    }

    [Theory]
    [InlineData("12345678")]
    [InlineData("password")]
    [InlineData("        ")]
    [InlineData("qwertyuiop")]
    public async Task Register_refuses_common_passwords_with_weak_password(string password)
    {
        using var response = await Host.Client.PostAsJsonAsync("auth/register", new { email = $"{Guid.NewGuid():N}@example.test", password });
        await ProblemAssert.IsProblemAsync(response, 400, ProblemCodes.WeakPassword);
    }

    [Fact]
    public async Task A_demoted_admin_is_refused_on_admin_routes_at_once_while_the_token_is_still_valid()
    {
        var admin = await new Tickets.Data.UserStore(Host.Db.Database).UpsertAdminAsync($"admin-{Guid.NewGuid():N}@example.test",
            PasswordHasher.Hash("admin password"), CancellationToken.None);
        using var client = Host.NewClient(Host.Tokens.Issue(admin.Id, "admin").AccessToken);
        using (var created = await client.PostAsJsonAsync("events", new { name = "Before", capacity = 1 }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        Assert.True(await new Tickets.Data.UserStore(Host.Db.Database).SetRoleAsync(admin.Email!, "user", CancellationToken.None));

        using var create = await client.PostAsJsonAsync("events", new { name = "After", capacity = 1 });
        await ProblemAssert.IsProblemAsync(create, 403, ProblemCodes.Forbidden);
        using var cancel = await client.PostAsync($"reservations/{Guid.NewGuid()}/cancel", null);
        await ProblemAssert.IsProblemAsync(cancel, 403, ProblemCodes.Forbidden);
    }

    [Fact]
    public async Task Missing_token_gets_401_and_a_user_token_on_an_admin_route_gets_403()
    {
        using var anonymous = await Host.Client.PostAsJsonAsync("events", new { name = "x", capacity = 1 });
        await ProblemAssert.IsProblemAsync(anonymous, 401, ProblemCodes.Unauthorized);

        var (_, token) = await Host.UserAsync();
        using var client = Host.NewClient(token);
        using var user = await client.PostAsJsonAsync("events", new { name = "x", capacity = 1 });
        await ProblemAssert.IsProblemAsync(user, 403, ProblemCodes.Forbidden);
    }
}
