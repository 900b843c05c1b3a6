using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace SocketIoSignal.Hosting;

/// <summary>
/// Opt-in diagnostics for benchmarks (<c>--Diagnostics:Enabled=true</c>; off by default, never for production):
/// <c>GET /_diag/heap</c> runs a full blocking GC and returns the managed heap, the process RSS and the GC
/// counters; <c>GET /_diag/counters</c> returns the same counters without collecting; <c>GET /_diag/alloc?ms=N</c>
/// samples allocations for N ms and returns the bytes allocated and the types that took them, by share.
/// </summary>
public static class Diagnostics
{
    public const string EnabledKey = "Diagnostics:Enabled";

    public static void UseDiagnostics(this WebApplication app)
    {
        // Not async on the way through: an async middleware keeps its state machine for as long as the request
        // below it runs, which for a WebSocket is the whole connection.
        app.Use((context, next) =>
            HttpMethods.IsGet(context.Request.Method) && context.Request.Path.StartsWithSegments("/_diag", out var rest) && (rest == "/heap" || rest == "/counters" || rest == "/alloc")
                ? DiagAsync(context, rest)
                : next(context));
    }

    private static async Task DiagAsync(HttpContext context, PathString rest)
    {
        {
            if (rest == "/alloc")
            {
                int ms = int.TryParse(context.Request.Query["ms"], NumberStyles.None, CultureInfo.InvariantCulture, out int m) ? Math.Clamp(m, 1, 60_000) : 2000;
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(await AllocationSampler.SampleAsync(TimeSpan.FromMilliseconds(ms), context.RequestAborted), context.RequestAborted);
                return;
            }
            long? heap = null;
            if (rest == "/heap")
            {
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
                GC.WaitForPendingFinalizers();
                heap = GC.GetTotalMemory(forceFullCollection: true);
            }
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(Json(heap), context.RequestAborted);
        }
    }

    private static string Json(long? heap)
    {
        var sb = new StringBuilder("{");
        void Field(string name, long value) =>
            sb.Append('"').Append(name).Append("\":").Append(value.ToString(CultureInfo.InvariantCulture)).Append(',');
        if (heap is { } h)
        {
            Field("managedBytes", h);
        }
        Field("rssBytes", ReadRss());
        Field("allocatedBytes", GC.GetTotalAllocatedBytes(precise: false));
        Field("gen0", GC.CollectionCount(0));
        Field("gen1", GC.CollectionCount(1));
        Field("gen2", GC.CollectionCount(2));
        Field("threads", ThreadPool.ThreadCount);
        sb[^1] = '}';
        return sb.ToString();
    }

    /// <summary>VmRSS from /proc/self/status, in bytes; the working set where there is no /proc.</summary>
    private static long ReadRss()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kb = line["VmRSS:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }
        return Environment.WorkingSet;
    }
}
