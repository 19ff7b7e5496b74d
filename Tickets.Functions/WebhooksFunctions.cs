using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Tickets.Api;

namespace Tickets.Functions;

public sealed class WebhooksFunctions(WebhookEndpoints webhooks, WebhookDelivery delivery)
{
    [Function("CreateWebhook")]
    public Task<IResult> Create([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.Webhooks)] HttpRequest req) =>
        webhooks.CreateAsync(req.HttpContext);

    [Function("ListWebhooks")]
    public Task<IResult> List([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Webhooks)] HttpRequest req) =>
        webhooks.ListAsync(req.HttpContext);

    [Function("GetWebhook")]
    public Task<IResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Webhook)] HttpRequest req, string id) =>
        webhooks.GetAsync(req.HttpContext, id);

    [Function("UpdateWebhook")]
    public Task<IResult> Update([HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = ApiRoutes.Webhook)] HttpRequest req, string id) =>
        webhooks.UpdateAsync(req.HttpContext, id);

    [Function("DeleteWebhook")]
    public Task<IResult> Delete([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = ApiRoutes.Webhook)] HttpRequest req, string id) =>
        webhooks.DeleteAsync(req.HttpContext, id);

    [Function("RotateWebhookSecret")]
    public Task<IResult> RotateSecret([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.WebhookRotateSecret)] HttpRequest req, string id) =>
        webhooks.RotateSecretAsync(req.HttpContext, id);

    [Function("ListWebhookDeliveries")]
    public Task<IResult> Deliveries([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.WebhookDeliveries)] HttpRequest req, string id) =>
        webhooks.DeliveriesAsync(req.HttpContext, id);

    [Function("ResendWebhookMessage")]
    public Task<IResult> Resend([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.WebhookResend)] HttpRequest req, string id, string messageId) =>
        webhooks.ResendAsync(req.HttpContext, id, messageId);

    /// <summary>
    /// Every 10 seconds, delivers until the outbox has no due message or the run's budget is spent. The host's
    /// singleton lease keeps one run at a time; the claim (SKIP LOCKED and a lease) would keep several apart anyway.
    /// </summary>
    [Function("DeliverWebhooks")]
    public Task DeliverWebhooks([TimerTrigger(ApiRoutes.DeliverWebhooksSchedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        delivery.DrainAsync(cancellationToken);
}
