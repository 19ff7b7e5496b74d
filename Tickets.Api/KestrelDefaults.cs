// The web server settings both hosts apply to their Kestrel: Tickets.Server's own, and the one inside the
// Functions worker that the Functions host forwards requests to.
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Tickets.Api;

public static class KestrelDefaults
{
    public static void Apply(KestrelServerOptions kestrel)
    {
        // No product banner in responses.
        kestrel.AddServerHeader = false;
        // The API refuses bodies over ApiJson.MaxBodyBytes with a 413 problem itself; Kestrel's own, larger limit
        // only cuts off abuse, so a moderately oversized request still gets a readable answer.
        kestrel.Limits.MaxRequestBodySize = 2 * 1024 * 1024;
    }
}
