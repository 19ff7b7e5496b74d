// Where webhooks may be sent: https URLs (http only with Webhooks:AllowHttp) whose host resolves to public addresses.
// Checked when a subscription is saved and again on every connection, against the addresses actually connected
// to (DNS rebinding: a name that resolved to a public address at save time may resolve to 127.0.0.1 later).
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Tickets.Api;

public enum WebhookUrlProblem
{
    None,
    Invalid,
    NotHttps,
    Unresolvable,
    Refused,
}

/// <summary>A connection refused because every address of the target is one webhooks may not reach.</summary>
public sealed class WebhookTargetRefusedException(string message) : Exception(message);

public sealed class WebhookTargets(IOptions<WebhookOptions> options)
{
    public const int MaxUrlLength = 2000;

    private readonly WebhookOptions _options = options.Value;

    /// <summary>Name resolution; tests replace it to play a DNS answer that changes between save and delivery.</summary>
    public Func<string, CancellationToken, Task<IPAddress[]>> Resolve { get; init; } = (host, ct) => Dns.GetHostAddressesAsync(host, ct);

    public async Task<(Uri? Url, WebhookUrlProblem Problem, string? Detail)> CheckAsync(string? text, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > MaxUrlLength || !Uri.TryCreate(text, UriKind.Absolute, out var url)
            || url.Scheme is not ("https" or "http") || url.UserInfo.Length > 0 || url.Fragment.Length > 0 || url.IdnHost.Length == 0)
        {
            return (null, WebhookUrlProblem.Invalid,
                $"url must be an absolute https URL of at most {MaxUrlLength} characters, without user information or a fragment.");
        }
        if (url.Scheme == "http" && !_options.AllowHttp)
        {
            return (null, WebhookUrlProblem.NotHttps, "url must use https (plain http is allowed only by a development setting).");
        }
        IPAddress[] addresses;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.ConnectTimeout);
            addresses = await AddressesOfAsync(url.IdnHost, timeout.Token);
        }
        catch (Exception ex) when (ex is SocketException or ArgumentException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return (null, WebhookUrlProblem.Unresolvable, "url's host name does not resolve.");
        }
        if (addresses.Length == 0)
        {
            return (null, WebhookUrlProblem.Unresolvable, "url's host name does not resolve.");
        }
        if (addresses.FirstOrDefault(a => !IsAllowed(a)) is { } refused)
        {
            return (null, WebhookUrlProblem.Refused,
                $"url's host resolves to {refused}, a loopback, private, link-local or metadata address that webhooks may not reach.");
        }
        return (url, WebhookUrlProblem.None, null);
    }

    /// <summary>
    /// The SocketsHttpHandler.ConnectCallback of the delivery client: resolves the host, keeps the allowed addresses
    /// and connects to the first that answers. TLS then runs over this stream against the URL's host name as usual.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var endpoint = context.DnsEndPoint;
        var addresses = await AddressesOfAsync(endpoint.Host, cancellationToken);
        var allowed = addresses.Where(IsAllowed).ToList();
        if (allowed.Count == 0)
        {
            throw new WebhookTargetRefusedException(
                $"{endpoint.Host} resolves only to loopback, private, link-local or metadata addresses ({string.Join(", ", addresses.Take(4))}); not connecting.");
        }
        Exception? last = null;
        foreach (var address in allowed)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endpoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw last!;
    }

    private async Task<IPAddress[]> AddressesOfAsync(string host, CancellationToken cancellationToken) =>
        IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Resolve(host, cancellationToken);

    public bool IsAllowed(IPAddress address) => !IsRefused(address, _options.AllowLoopbackTargets);

    /// <summary>Loopback (unless allowed), private, shared, link-local (cloud metadata lives there), multicast and reserved ranges.</summary>
    public static bool IsRefused(IPAddress address, bool allowLoopback)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (IPAddress.IsLoopback(address))
        {
            return !allowLoopback;
        }
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] is 0 or 10 or >= 224                       // "this" network, private, multicast and reserved
                || (b[0] == 100 && b[1] is >= 64 and < 128)         // shared address space (carrier-grade NAT)
                || (b[0] == 169 && b[1] == 254)                     // link-local, including 169.254.169.254 metadata
                || (b[0] == 172 && b[1] is >= 16 and < 32)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 192 && b[1] == 0 && b[2] == 0)          // IETF protocol assignments
                || (b[0] == 198 && b[1] is 18 or 19)                // benchmarking
                || (b[0] == 168 && b[1] == 63 && b[2] == 129 && b[3] == 16); // Azure's platform endpoint (wireserver)
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var b = address.GetAddressBytes();
            if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b)
            {
                // NAT64 (64:ff9b::/96): judged by the IPv4 address it carries.
                return IsRefused(new IPAddress(b.AsSpan(12, 4)), allowLoopback);
            }
            return address.Equals(IPAddress.IPv6None) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
                || (b[0] & 0xfe) == 0xfc                             // unique local fc00::/7 (includes fd00:ec2::254 metadata)
                || (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8); // documentation
        }
        return true;
    }
}
