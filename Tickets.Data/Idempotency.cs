using Dapper;
using Npgsql;

namespace Tickets.Data;

/// <summary>An HTTP response exactly as first sent, kept for replays.</summary>
public sealed record StoredResponse(int StatusCode, string ContentType, byte[] Body, string? Location);

/// <summary>
/// A request's Idempotency-Key: the key, a hash of what was asked (a reused key with a different request is
/// refused), and how to render the outcome as the response to store. Rendering is the caller's (the API's),
/// so the stored bytes are exactly what the first caller received.
/// </summary>
public sealed record IdempotencyKey<TResult>(string Key, byte[] RequestHash, Func<TResult, Task<StoredResponse>> Render);

/// <summary>Reads and writes idempotency records inside the caller's transaction.</summary>
internal static class IdempotencyRecords
{
    public sealed record Stored(Guid UserId, string Key, byte[] RequestHash, int StatusCode, string ContentType, byte[] Body, string? Location)
    {
        public StoredResponse Response => new(StatusCode, ContentType, Body, Location);
    }

    /// <summary>The record of a first use: the outcome rendered as the response its caller receives.</summary>
    public static async Task<Stored> RenderAsync<TResult>(Guid userId, IdempotencyKey<TResult> key, TResult result)
    {
        var response = await key.Render(result);
        return new Stored(userId, key.Key, key.RequestHash, response.StatusCode, response.ContentType, response.Body, response.Location);
    }

    /// <summary>Renders and stores the responses of a batch applied whole, for its requests that carry a key.</summary>
    public static async Task StoreFirstUsesAsync<TResult>(NpgsqlConnection connection, NpgsqlTransaction? transaction,
        IEnumerable<(Guid UserId, IdempotencyKey<TResult>? Key, TResult Result)> outcomes, CancellationToken ct)
    {
        var records = new List<Stored>();
        foreach (var (userId, key, result) in outcomes)
        {
            if (key is not null)
            {
                records.Add(await RenderAsync(userId, key, result));
            }
        }
        if (records.Count > 0)
        {
            // A stored response must commit with what it describes.
            await InsertAsync(connection, transaction ?? throw new InvalidOperationException("Idempotency records need a transaction."), records, ct);
        }
    }

    public static async Task<Dictionary<(Guid UserId, string Key), Stored>> FindAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyCollection<(Guid UserId, string Key)> keys, CancellationToken ct)
    {
        if (keys.Count == 0)
        {
            return [];
        }
        const string sql = """
            select i.user_id, i.key, i.request_hash, i.status_code, i.content_type, i.body, i.location
            from idempotency_keys i
            join unnest(@UserIds, @Keys) as k (user_id, key) on k.user_id = i.user_id and k.key = i.key
            """;
        var rows = await connection.QueryAsync<Stored>(new CommandDefinition(sql,
            new { UserIds = keys.Select(k => k.UserId).ToArray(), Keys = keys.Select(k => k.Key).ToArray() }, transaction, cancellationToken: ct));
        return rows.ToDictionary(r => (r.UserId, r.Key));
    }

    public static Task InsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<Stored> records, CancellationToken ct)
    {
        if (records.Count == 0)
        {
            return Task.CompletedTask;
        }
        // A concurrent first use of the same key (another instance) makes this insert fail with a unique
        // violation; the batch is then decided request by request and the retry finds the stored response.
        const string sql = """
            insert into idempotency_keys (user_id, key, request_hash, status_code, content_type, body, location)
            select user_id, key, request_hash, status_code, content_type, body, location
            from unnest(@UserIds, @Keys, @Hashes, @StatusCodes, @ContentTypes, @Bodies, @Locations)
                as r (user_id, key, request_hash, status_code, content_type, body, location)
            """;
        return connection.ExecuteAsync(new CommandDefinition(sql, new
        {
            UserIds = records.Select(r => r.UserId).ToArray(),
            Keys = records.Select(r => r.Key).ToArray(),
            Hashes = records.Select(r => r.RequestHash).ToArray(),
            StatusCodes = records.Select(r => r.StatusCode).ToArray(),
            ContentTypes = records.Select(r => r.ContentType).ToArray(),
            Bodies = records.Select(r => r.Body).ToArray(),
            Locations = records.Select(r => r.Location).ToArray(),
        }, transaction, cancellationToken: ct));
    }
}
