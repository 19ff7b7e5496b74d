using Dapper;
using Npgsql;
using Tickets.Data;

namespace Tickets.Tests;

/// <summary>
/// The references of reservations, their lines and idempotency keys, checked once per statement (migration 007)
/// instead of by foreign keys: every row whose reference is missing is refused with the foreign key's error, and
/// the referenced history can be neither deleted nor re-keyed, which is what the foreign keys' row locks guarded.
/// </summary>
public sealed class ReferenceCheckTests(PostgresFixture db) : EngineTestBase(db)
{
    private async Task<PostgresException> FailsAsync(string sql, object? parameters = null)
    {
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        return await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync(sql, parameters));
    }

    private async Task<long> CountAsync(string sql, object parameters)
    {
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>(sql, parameters);
    }

    private const string InsertReservation = """
        insert into reservations (id, event_id, user_id, quantity, status, created_at, expires_at)
        select id, @EventId, user_id, 1, 'HOLD', now(), now() + interval '5 minutes'
        from unnest(@Ids, @UserIds) as r (id, user_id)
        """;

    [Fact]
    public async Task A_statement_inserting_one_reservation_of_an_unknown_user_among_known_ones_is_refused_whole_as_a_foreign_key_violation()
    {
        var ev = await NewEventAsync(10);
        Guid[] ids = [Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid()];
        Guid[] users = [await NewUserAsync(), Guid.NewGuid(), await NewUserAsync()];

        var refused = await FailsAsync(InsertReservation, new { EventId = ev.Id, Ids = ids, UserIds = users });

        Assert.Equal((PostgresErrorCodes.ForeignKeyViolation, "reservations_user_id_fkey"), (refused.SqlState, refused.ConstraintName));
        Assert.Contains(users[1].ToString(), refused.MessageText);
        Assert.Equal(0, await CountAsync("select count(*) from reservations where id = any(@Ids)", new { Ids = ids }));
    }

    [Fact]
    public async Task A_reservation_of_an_unknown_event_is_refused_as_a_foreign_key_violation()
    {
        var refused = await FailsAsync(InsertReservation, new { EventId = Guid.NewGuid(), Ids = new[] { Guid.NewGuid() }, UserIds = new[] { await NewUserAsync() } });

        Assert.Equal((PostgresErrorCodes.ForeignKeyViolation, "reservations_event_id_fkey"), (refused.SqlState, refused.ConstraintName));
    }

    [Fact]
    public async Task A_hold_by_a_user_who_does_not_exist_is_answered_unknown_user_on_both_engine_paths()
    {
        var ev = await NewEventAsync(10);

        Assert.Equal(HoldOutcome.UnknownUser, (await Engine.HoldAsync(new HoldRequest(Guid.NewGuid(), ev.Id, 1), CancellationToken.None)).Outcome);
        // The whole-batch statement fails on the check (nothing written); deciding the batch request by request then
        // meets it again, as it met the foreign key.
        await Assert.ThrowsAsync<PostgresException>(() => Engine.HoldBatchAsync([new HoldRequest(Guid.NewGuid(), ev.Id, 1)], CancellationToken.None));
        Assert.Equal((10, 0), ((await ReloadAsync(ev.Id)).Available, (await ReloadAsync(ev.Id)).Held));
    }

    [Fact]
    public async Task A_line_naming_a_type_of_another_event_or_a_missing_reservation_is_refused()
    {
        var ev = await NewEventAsync(10);
        var other = await NewEventAsync(10);
        var held = await Engine.HoldAsync(new HoldRequest(await NewUserAsync(), ev.Id, 1), CancellationToken.None);
        const string insertLine = """
            insert into reservation_lines (reservation_id, ticket_type_id, quantity, unit_price)
            values (@ReservationId, @TypeId, 1, 0)
            """;

        // A foreign key to each table alone would have let this one through: the type exists, on another event.
        var otherEvents = await FailsAsync(insertLine, new { ReservationId = held.Reservation!.Id, TypeId = other.TicketTypes[0].Id });
        var noReservation = await FailsAsync(insertLine, new { ReservationId = Guid.NewGuid(), TypeId = ev.TicketTypes[0].Id });

        Assert.All([otherEvents, noReservation], e =>
            Assert.Equal((PostgresErrorCodes.ForeignKeyViolation, "reservation_lines_ticket_type_id_fkey"), (e.SqlState, e.ConstraintName)));
        Assert.Equal(1, await CountAsync("select count(*) from reservation_lines where reservation_id = @Id", new { held.Reservation.Id }));
    }

    [Fact]
    public async Task An_idempotency_key_of_an_unknown_user_is_refused_as_a_foreign_key_violation()
    {
        var refused = await FailsAsync("""
            insert into idempotency_keys (user_id, key, request_hash, status_code, content_type, body)
            values (@UserId, 'k', '\x00'::bytea, 201, 'application/json', '\x7b7d'::bytea)
            """, new { UserId = Guid.NewGuid() });

        Assert.Equal((PostgresErrorCodes.ForeignKeyViolation, "idempotency_keys_user_id_fkey"), (refused.SqlState, refused.ConstraintName));
    }

    [Theory]
    [InlineData("delete from users where id = @UserId")]
    [InlineData("delete from events where id = @EventId")]
    [InlineData("delete from ticket_types where event_id = @EventId")]
    [InlineData("delete from reservations where id = @ReservationId")]
    [InlineData("delete from reservation_lines where reservation_id = @ReservationId")]
    [InlineData("truncate reservations")]
    [InlineData("truncate users cascade")]
    [InlineData("update users set id = gen_random_uuid() where id = @UserId")]
    [InlineData("update events set id = gen_random_uuid() where id = @EventId")]
    [InlineData("update ticket_types set event_id = (select id from events where id <> @EventId limit 1) where event_id = @EventId")]
    [InlineData("update reservations set user_id = (select id from users where id <> @UserId limit 1) where id = @ReservationId")]
    [InlineData("update reservation_lines set ticket_type_id = gen_random_uuid() where reservation_id = @ReservationId")]
    public async Task The_sales_history_is_never_deleted_nor_re_keyed(string sql)
    {
        var ev = await NewEventAsync(10);
        await NewEventAsync(10);
        var user = await NewUserAsync();
        await NewUserAsync();
        var held = await Engine.HoldAsync(new HoldRequest(user, ev.Id, 2), CancellationToken.None);

        var refused = await FailsAsync(sql, new { UserId = user, EventId = ev.Id, ReservationId = held.Reservation!.Id });

        Assert.Equal(PostgresErrorCodes.RestrictViolation, refused.SqlState);
        Assert.Equal(held.Reservation, await Engine.GetAsync(held.Reservation.Id, user, CancellationToken.None));
        await AssertInvariantAsync();
    }
}
