using System.Net;
using System.Text;

namespace RunLedger.Cli.Tests;

/// <summary>Answers HTTP requests with canned responses and remembers what was asked.</summary>
internal sealed class StubHandler(Func<HttpRequestMessage, HttpResponseMessage> respond) : HttpMessageHandler
{
    public List<HttpRequestMessage> Requests { get; } = [];

    /// <summary>The request bodies, read before the client disposes them (null for none).</summary>
    public List<string?> Bodies { get; } = [];

    public static StubHandler Json(HttpStatusCode status, string json) =>
        new(_ => Response(status, json));

    public static StubHandler Route(params (string PathPart, string Json)[] routes) =>
        new(request =>
        {
            var path = request.RequestUri!.PathAndQuery;
            foreach (var (start, json) in routes)
            {
                if (path.Contains(start, StringComparison.Ordinal))
                {
                    return Response(HttpStatusCode.OK, json);
                }
            }

            return Response(HttpStatusCode.NotFound, """{"title":"Not found","status":404}""");
        });

    public static HttpResponseMessage Response(HttpStatusCode status, string json, string mediaType = "application/json") =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, mediaType) };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Requests.Add(request);
        Bodies.Add(request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken));
        return respond(request);
    }
}
