// POST /api/auth/register, /api/auth/token, /api/auth/guest.
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Tickets.Data;

namespace Tickets.Api;

public sealed class AuthEndpoints(
    UserStore users, TokenService tokens, AbuseLimits limits, SignInThrottle throttle, HumanCheck humanCheck, ILogger<AuthEndpoints> logger)
{
    public async Task<IResult> RegisterAsync(ApiCall call)
    {
        var context = call.Http;
        var (body, problem) = await ApiJson.ReadAsync<CredentialsRequest>(context.Request, context.RequestAborted);
        if (problem is not null)
        {
            return problem;
        }
        if (ValidateCredentials(body!.Email, body.Password) is { } invalid)
        {
            return invalid;
        }
        EmailAddress.TryParse(body.Email, out var email, out _);
        var user = await users.CreateAsync(email, PasswordHasher.Hash(body.Password!), Roles.User, context.RequestAborted);
        if (user is null)
        {
            return Problems.Conflict(ProblemCodes.EmailTaken, "The email is already registered.", "Sign in instead, or use another email.");
        }
        logger.LogInformation("Registered user {UserId}", user.Id);
        return TypedResults.Created((string?)null, new UserResponse(user.Id, user.Email, user.Role));
    }

    /// <summary>JSON <c>{email,password}</c>, or an OAuth2 password-grant form (<c>username</c>, <c>password</c>).</summary>
    public async Task<IResult> TokenAsync(ApiCall call)
    {
        var context = call.Http;
        string? email;
        string? password;
        if (context.Request.ContentType?.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase) == true)
        {
            return Problems.Create(StatusCodes.Status415UnsupportedMediaType, ProblemCodes.UnsupportedMediaType,
                "Unsupported media type.", "Send JSON, or an application/x-www-form-urlencoded form.");
        }
        if (context.Request.HasFormContentType)
        {
            if (context.Request.ContentLength is null or > ApiJson.MaxBodyBytes)
            {
                return ApiJson.BodyTooLarge();
            }
            IFormCollection form;
            try
            {
                form = await context.Request.ReadFormAsync(context.RequestAborted);
            }
            catch (InvalidDataException)
            {
                return Problems.BadRequest("The form is malformed or exceeds the form limits.");
            }
            email = form["username"].Count == 1 ? form["username"].ToString() : null;
            password = form["password"].Count == 1 ? form["password"].ToString() : null;
        }
        else
        {
            var (body, problem) = await ApiJson.ReadAsync<CredentialsRequest>(context.Request, context.RequestAborted);
            if (problem is not null)
            {
                return problem;
            }
            (email, password) = (body!.Email, body.Password);
        }
        if (string.IsNullOrWhiteSpace(email) || string.IsNullOrEmpty(password)
            || email.Length > EmailAddress.MaxLength || password.Length > PasswordPolicy.MaxLength || EmailAddress.HasInvisibleCharacters(email))
        {
            return Problems.BadRequest("Both email (or username) and password are required, without control or invisible characters.");
        }
        // Every spelling of an address is one account (EmailAddress.Key), and the throttle counts against the
        // account the lookup found; an address without an account is counted by its key.
        var user = await users.FindByEmailAsync(email, context.RequestAborted);
        var account = user?.Id.ToString() ?? "email:" + EmailAddress.Key(email);
        var client = limits.ClientAddress(context);
        if (throttle.Wait(account, client) is { } wait)
        {
            return AbuseLimits.Reject("sign_in", "Too many failed sign-ins for this account from here; wait before trying again.",
                Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)));
        }
        if (!PasswordHasher.Verify(password, user?.PasswordHash))
        {
            throttle.Failed(account, client);
            logger.LogInformation("Failed sign-in");
            return Problems.Create(StatusCodes.Status401Unauthorized, ProblemCodes.InvalidCredentials,
                "Invalid credentials.", "The email or password is wrong.");
        }
        throttle.Succeeded(account, client);
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(tokens.Issue(user!.Id, user.Role));
    }

    /// <summary>An anonymous buyer: a guest account with no email, usable only through the returned token.</summary>
    public async Task<IResult> GuestAsync(ApiCall call)
    {
        var context = call.Http;
        if (await humanCheck.VerifyAsync(context, limits.ClientAddress(context)) is { } notHuman)
        {
            return notHuman;
        }
        var user = await users.CreateAsync(null, null, Roles.Guest, context.RequestAborted)
            ?? throw new InvalidOperationException("A guest account could not be created.");
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Created((string?)null, tokens.Issue(user.Id, user.Role));
    }

    /// <summary>Null when the email and password may make an account; otherwise the 400 problem.</summary>
    public static IResult? ValidateCredentials(string? email, string? password)
    {
        if (!EmailAddress.TryParse(email, out _, out var key))
        {
            return Problems.BadRequest(
                $"email must be a valid email address of at most {EmailAddress.MaxLength} characters, without control or invisible characters.");
        }
        if (password is null || !PasswordPolicy.HasValidLength(password))
        {
            return Problems.BadRequest($"password must be {PasswordPolicy.MinLength} to {PasswordPolicy.MaxLength} characters long.");
        }
        if (PasswordPolicy.IsWeak(password, key))
        {
            return Problems.BadRequest("This password is too common or too easy to guess (a well-known password, a repeated character, " +
                "a sequence, or the email address). Choose a longer phrase of your own.", ProblemCodes.WeakPassword);
        }
        return null;
    }
}
