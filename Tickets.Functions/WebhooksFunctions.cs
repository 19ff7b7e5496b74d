// The webhook operations of the declaration (ApiRoutes.All) by name, admitted by ApiGateMiddleware, and the timer
// that delivers the outbox.
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Tickets.Api;

namespace Tickets.Functions;

public sealed class WebhooksFunctions(WebhookDelivery delivery)
{
    [Function("CreateWebhook")]
    public Task<IResult> Create([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.Webhooks)] HttpRequest req) =>
        ApiGate.RunAsync(req.HttpContext);

    [Function("ListWebhooks")]
    public Task<IResult> List([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Webhooks)] HttpRequest req) =>
        ApiGate.RunAsync(req.HttpContext);

    [Function("GetWebhook")]
    public Task<IResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Webhook)] HttpRequest req) =>
        ApiGate.RunAsync(req.HttpContext);

    [Function("UpdateWebhook")]
    public Task<IResult> Update([HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = ApiRoutes.Webhook)] HttpRequest req) =>
        ApiGate.RunAsync(req.HttpContext);

    [Function("DeleteWebhook")]
    public Task<IResult> Delete([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = ApiRoutes.Webhook)] HttpRequest req) =>
        ApiGate.RunAsync(req.HttpContext);

    [Function("RotateWebhookSecret")]
    public Task<IResult> RotateSecret([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.WebhookRotateSecret)] HttpRequest req) =>
        ApiGate.RunAsync(req.HttpContext);

    [Function("ListWebhookDeliveries")]
    public Task<IResult> Deliveries([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.WebhookDeliveries)] HttpRequest req) =>
        ApiGate.RunAsync(req.HttpContext);

    [Function("ResendWebhookMessage")]
    public Task<IResult> Resend([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.WebhookResend)] HttpRequest req) =>
        ApiGate.RunAsync(req.HttpContext);

    /// <summary>
    /// Every 10 seconds, delivers until the outbox has no due message or the run's budget is spent. The host's
    /// singleton lease keeps one run at a time; the claim (SKIP LOCKED and a lease) would keep several apart anyway.
    /// </summary>
    [Function("DeliverWebhooks")]
    public Task DeliverWebhooks([TimerTrigger(ApiRoutes.DeliverWebhooksSchedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        delivery.DrainAsync(cancellationToken);
}
