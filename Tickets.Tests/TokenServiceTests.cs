using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Tickets.Api;

namespace Tickets.Tests;

public sealed class TokenServiceTests
{
    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static HttpRequest WithBearer(string token)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Authorization = "Bearer " + token;
        return context.Request;
    }

    [Fact]
    public async Task A_token_accepted_once_is_refused_after_it_expires_even_though_it_was_cached()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var tokens = new TokenService(Options.Create(new JwtOptions { SigningKey = ApiHost.SigningKey, TokenLifetimeMinutes = 5 }), clock);
        var issued = tokens.Issue(Guid.NewGuid(), "user");

        Assert.NotNull(await tokens.AuthenticateAsync(WithBearer(issued.AccessToken)));
        clock.Now += TimeSpan.FromMinutes(4);
        Assert.NotNull(await tokens.AuthenticateAsync(WithBearer(issued.AccessToken)));
        clock.Now += TimeSpan.FromMinutes(2); // past expiry plus the 30 s clock skew
        Assert.Null(await tokens.AuthenticateAsync(WithBearer(issued.AccessToken)));
    }

    [Fact]
    public async Task A_token_signed_by_another_service_instance_with_the_same_key_is_accepted_and_with_another_key_refused()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var issuer = new TokenService(Options.Create(new JwtOptions { SigningKey = ApiHost.SigningKey }), clock);
        var sameKey = new TokenService(Options.Create(new JwtOptions { SigningKey = ApiHost.SigningKey }), clock);
        var otherKey = new TokenService(Options.Create(new JwtOptions { SigningKey = "another-signing-key-of-enough-length-0123456789" }), clock);
        var token = issuer.Issue(Guid.NewGuid(), "guest").AccessToken;

        Assert.Equal("guest", (await sameKey.AuthenticateAsync(WithBearer(token)))?.Role);
        Assert.Null(await otherKey.AuthenticateAsync(WithBearer(token)));
    }
}
