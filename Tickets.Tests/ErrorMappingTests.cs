using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.DependencyInjection;
using Moq;
using Npgsql;
using Tickets.Api;
using Tickets.Data;

namespace Tickets.Tests;

/// <summary>The one place outcomes and exceptions become HTTP answers, checked without a server.</summary>
public sealed class ErrorMappingTests
{
    public static TheoryData<HoldOutcome, int, string?> HoldOutcomes() => new()
    {
        { HoldOutcome.EventNotFound, 404, ProblemCodes.EventNotFound },
        { HoldOutcome.InvalidQuantity, 400, ProblemCodes.InvalidQuantity },
        { HoldOutcome.SalesNotOpen, 409, ProblemCodes.SalesNotOpen },
        { HoldOutcome.SalesClosed, 409, ProblemCodes.SalesClosed },
        { HoldOutcome.LimitExceeded, 409, ProblemCodes.LimitExceeded },
        { HoldOutcome.SoldOut, 409, ProblemCodes.SoldOut },
        { HoldOutcome.TicketTypeNotFound, 404, ProblemCodes.TicketTypeNotFound },
        { HoldOutcome.TicketTypeNotOnSale, 409, ProblemCodes.TicketTypeNotOnSale },
        { HoldOutcome.TicketTypeRequired, 400, ProblemCodes.TicketTypeRequired },
        { HoldOutcome.TooManyActiveHolds, 409, ProblemCodes.LimitExceeded },
        { HoldOutcome.TooManyHeldSeats, 409, ProblemCodes.LimitExceeded },
        { HoldOutcome.IdempotencyKeyReused, 422, ProblemCodes.IdempotencyKeyReused },
    };

    [Theory]
    [MemberData(nameof(HoldOutcomes))]
    public void Every_hold_refusal_maps_to_its_status_and_code(HoldOutcome outcome, int status, string? code)
    {
        var problem = Assert.IsType<ProblemHttpResult>(ReservationEndpoints.ToResult(new HoldResult(outcome)));
        Assert.Equal(status, problem.StatusCode);
        Assert.Equal(code, problem.ProblemDetails.Extensions["code"]);
    }

    [Fact]
    public void Every_hold_outcome_is_mapped()
    {
        foreach (var outcome in Enum.GetValues<HoldOutcome>().Where(o => o is not (HoldOutcome.Held or HoldOutcome.Overloaded or HoldOutcome.Replayed or HoldOutcome.UnknownUser)))
        {
            Assert.Contains(HoldOutcomes(), row => (HoldOutcome)row[0] == outcome);
        }
        var held = new Reservation { Id = Guid.NewGuid(), Status = ReservationStatus.Hold, Quantity = 1 };
        Assert.IsType<Created<ReservationResponse>>(ReservationEndpoints.ToResult(new HoldResult(HoldOutcome.Held, held)));
    }

    [Fact]
    public async Task An_overloaded_hold_queue_is_a_503_with_retry_after()
    {
        var context = new DefaultHttpContext { RequestServices = new ServiceCollection().AddLogging().BuildServiceProvider() };
        context.Response.Body = new MemoryStream();
        await ReservationEndpoints.ToResult(new HoldResult(HoldOutcome.Overloaded)).ExecuteAsync(context);

        Assert.Equal(503, context.Response.StatusCode);
        Assert.Equal("1", context.Response.Headers.RetryAfter.ToString());
        context.Response.Body.Position = 0;
        Assert.Contains("\"code\":\"overloaded\"", await new StreamReader(context.Response.Body).ReadToEndAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ChangeOutcome.NotFound, 404, ProblemCodes.NotFound)]
    [InlineData(ChangeOutcome.Expired, 410, ProblemCodes.HoldExpired)]
    [InlineData(ChangeOutcome.WrongState, 409, ProblemCodes.WrongState)]
    public void Change_refusals_map_to_their_status_and_code(ChangeOutcome outcome, int status, string code)
    {
        var reservation = new Reservation { Status = ReservationStatus.Released };
        var problem = Assert.IsType<ProblemHttpResult>(ReservationEndpoints.ToResult(new ChangeResult(outcome, reservation), "confirm"));
        Assert.Equal(status, problem.StatusCode);
        Assert.Equal(code, problem.ProblemDetails.Extensions["code"]);
    }

    [Fact]
    public async Task An_unreachable_database_is_a_503_with_retry_after_logged_as_a_warning()
    {
        var logger = new Mock<ILogger>();
        var result = Problems.ForException(new DatabaseUnavailableException("down", new NpgsqlException("refused")), logger.Object);

        var context = new DefaultHttpContext { RequestServices = new ServiceCollection().AddLogging().BuildServiceProvider() };
        context.Response.Body = new MemoryStream();
        await result.ExecuteAsync(context);

        Assert.Equal(503, context.Response.StatusCode);
        Assert.Equal(Problems.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), context.Response.Headers.RetryAfter.ToString());
        Assert.StartsWith("application/problem+json", context.Response.ContentType, StringComparison.Ordinal);
        logger.Verify(l => l.Log(LogLevel.Warning, It.IsAny<EventId>(), It.IsAny<It.IsAnyType>(), It.IsAny<Exception>(),
            It.IsAny<Func<It.IsAnyType, Exception?, string>>()), Times.Once);
    }

    [Fact]
    public void An_unexpected_exception_is_a_500_problem_that_does_not_leak_the_message_and_is_logged_as_an_error()
    {
        var logger = new Mock<ILogger>();
        var problem = Assert.IsType<ProblemHttpResult>(Problems.ForException(new InvalidOperationException("secret internals"), logger.Object));

        Assert.Equal(500, problem.StatusCode);
        Assert.Equal(ProblemCodes.InternalError, problem.ProblemDetails.Extensions["code"]);
        Assert.DoesNotContain("secret", problem.ProblemDetails.Detail, StringComparison.Ordinal);
        logger.Verify(l => l.Log(LogLevel.Error, It.IsAny<EventId>(), It.IsAny<It.IsAnyType>(), It.IsAny<InvalidOperationException>(),
            It.IsAny<Func<It.IsAnyType, Exception?, string>>()), Times.Once);
    }

    [Theory]
    [InlineData(StatusCodes.Status408RequestTimeout, ProblemCodes.RequestTimeout)]
    [InlineData(StatusCodes.Status413PayloadTooLarge, ProblemCodes.BodyTooLarge)]
    [InlineData(StatusCodes.Status400BadRequest, ProblemCodes.InvalidRequest)]
    public void Errors_the_web_server_raises_while_the_body_is_read_keep_their_status_and_never_name_its_settings(int status, string code)
    {
        var exception = new BadHttpRequestException("Reading the request body timed out due to data arriving too slowly. See MinRequestBodyDataRate.", status);
        var problem = Assert.IsType<ProblemHttpResult>(Problems.ForException(exception, Mock.Of<ILogger>()));

        Assert.Equal(status, problem.StatusCode);
        Assert.Equal(code, problem.ProblemDetails.Extensions["code"]);
        Assert.DoesNotContain("MinRequestBodyDataRate", problem.ProblemDetails.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("too-short-key")]
    public void A_missing_or_short_signing_key_stops_start_up_with_a_clear_message(string key)
    {
        var options = Microsoft.Extensions.Options.Options.Create(new JwtOptions { SigningKey = key });
        var error = Assert.Throws<InvalidOperationException>(() => new TokenService(options, TimeProvider.System));
        Assert.Contains(AppSettingNames.JwtSigningKey, error.Message, StringComparison.Ordinal);
    }
}

public sealed class ConnectionDefaultsTests
{
    [Fact]
    public void Bounded_timeouts_are_added_only_where_the_connection_string_is_silent()
    {
        var silent = new Npgsql.NpgsqlConnectionStringBuilder(TicketsServices.WithDefaults("Host=db;Username=u;Database=d"));
        Assert.Equal((2, 10, 1000, "tickets"), (silent.Timeout, silent.CommandTimeout, silent.CancellationTimeout, silent.ApplicationName));

        var explicitOnes = new Npgsql.NpgsqlConnectionStringBuilder(TicketsServices.WithDefaults(
            "Host=db;Timeout=15;Command Timeout=30;Cancellation Timeout=2000;Application Name=mine"));
        Assert.Equal((15, 30, 2000, "mine"), (explicitOnes.Timeout, explicitOnes.CommandTimeout, explicitOnes.CancellationTimeout, explicitOnes.ApplicationName));
    }
}
