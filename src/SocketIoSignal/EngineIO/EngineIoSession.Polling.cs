using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using SocketIoSignal.EngineIO.Protocol;

namespace SocketIoSignal.EngineIO;

/// <summary>Long-polling: exactly one GET and one POST at a time; a second concurrent one closes the session.</summary>
internal sealed partial class EngineIoSession
{
    /// <summary>Whether a GET is waiting for packets (for tests and diagnostics).</summary>
    internal bool HasPendingPoll
    {
        get
        {
            lock (_gate)
            {
                return _pendingPoll is not null;
            }
        }
    }

    /// <summary>Whether a POST is being read (for tests and diagnostics).</summary>
    internal bool IsPostActive
    {
        get
        {
            lock (_gate)
            {
                return _postActive;
            }
        }
    }

    internal async Task HandlePollGetAsync(HttpContext context, EngineIoRequest request)
    {
        CloseIfHeartbeatLate();
        List<EngineIoPacket>? packets = null;
        TaskCompletionSource? wait = null;
        EngineIoError? error = null;
        bool overlap = false;
        lock (_gate)
        {
            if (_state == State.Closed)
            {
                error = EngineIoError.UnknownSid;
            }
            else if (Transport != TransportKind.Polling)
            {
                error = EngineIoError.BadRequest;
            }
            else if (_pendingPoll is not null)
            {
                overlap = true;
            }
            else if (_outbox.Count > 0)
            {
                packets = _outbox.Drain();
            }
            else if (_closeOnPoll)
            {
                // What was queued has gone out: now the close, after a noop, as the reference's pending close.
                packets = [EngineIoPacket.Noop, EngineIoPacket.ClosePacket];
            }
            else
            {
                wait = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _pendingPoll = wait;
                if (_upgrading)
                {
                    // The probe was answered: this GET waits for the upgrade's outcome, at most UpgradePollGrace.
                    ReleasePollLater(wait);
                }
            }
        }
        if (overlap)
        {
            Abort(CloseReason.TransportError);
            await _server.WriteErrorAsync(context, EngineIoError.BadRequest);
            return;
        }
        if (error is { } e)
        {
            if (e == EngineIoError.UnknownSid && _server.TryTakeClientClose(Id, Protocol))
            {
                // This GET was sent before the POST that closed the session; it gets the noop a pending poll gets.
                await _server.WritePayloadAsync(context, request, this, [EngineIoPacket.Noop]);
                return;
            }
            await _server.WriteErrorAsync(context, e);
            return;
        }
        if (wait is not null)
        {
            using (context.RequestAborted.Register(static w => ((TaskCompletionSource)w!).TrySetResult(), wait))
            {
                await wait.Task;
            }
            lock (_gate)
            {
                _pendingPoll = null;
                if (context.RequestAborted.IsCancellationRequested)
                {
                    packets = null;
                }
                else if (_state == State.Closed)
                {
                    // The client closed the session itself: its pending poll ends with a noop, as the reference's
                    // does; any other end tells the client with a close packet.
                    packets = _closeReason == CloseReason.TransportClose ? [EngineIoPacket.Noop] : [EngineIoPacket.ClosePacket];
                }
                else if (Transport != TransportKind.Polling)
                {
                    // The upgrade completed while this GET waited: the same answer as a GET that comes after it.
                    error = EngineIoError.BadRequest;
                }
                else if (_outbox.Count > 0)
                {
                    packets = _outbox.Drain();
                }
                else
                {
                    packets = [EngineIoPacket.Noop];
                }
            }
            if (error is { } late)
            {
                await _server.WriteErrorAsync(context, late);
                return;
            }
            if (packets is null)
            {
                // The client went away mid-poll.
                Abort(CloseReason.TransportError);
                return;
            }
        }
        try
        {
            await _server.WritePayloadAsync(context, request, this, packets!);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ConnectionResetException)
        {
            Abort(CloseReason.TransportError);
            return;
        }
        ObservedConnection?.RaiseDrain();
        if (packets![^1] == EngineIoPacket.ClosePacket)
        {
            Abort(_closeReason);
        }
    }

    internal async Task HandlePollPostAsync(HttpContext context, EngineIoRequest request)
    {
        CloseIfHeartbeatLate();
        EngineIoError? error = null;
        bool overlap = false;
        lock (_gate)
        {
            if (_state != State.Open)
            {
                error = EngineIoError.UnknownSid;
            }
            else if (Transport != TransportKind.Polling)
            {
                error = EngineIoError.BadRequest;
            }
            else if (_postActive)
            {
                overlap = true;
            }
            else
            {
                _postActive = true;
            }
        }
        if (overlap)
        {
            Abort(CloseReason.TransportError);
            await _server.WriteErrorAsync(context, EngineIoError.BadRequest);
            return;
        }
        if (error is { } e)
        {
            await _server.WriteErrorAsync(context, e);
            return;
        }
        try
        {
            await ReadAndDispatchPostAsync(context, request);
        }
        finally
        {
            lock (_gate)
            {
                _postActive = false;
            }
        }
    }

    private async Task ReadAndDispatchPostAsync(HttpContext context, EngineIoRequest request)
    {
        int max = _server.Options.MaxHttpBufferSize;
        bool binaryBody = IsOctetStream(context.Request.ContentType);
        if (binaryBody && (Protocol >= 4 || request.IsJsonp))
        {
            // v4 has no binary payload encoding; answer at once rather than leave the request hanging.
            await _server.WriteErrorAsync(context, EngineIoError.BadRequest);
            return;
        }
        if (HasContentCoding(context.Request))
        {
            // A compressed body would be inflated past what MaxHttpBufferSize bounds; no client sends one.
            _server.OnProtocolError(this, "content-encoding");
            Abort(CloseReason.ParseError);
            await _server.WriteErrorAsync(context, EngineIoError.BadRequest);
            return;
        }
        if (context.Request.ContentLength > max)
        {
            Abort(CloseReason.MessageTooBig);
            await _server.WriteStatusAsync(context, StatusCodes.Status413PayloadTooLarge);
            return;
        }
        byte[]? body;
        try
        {
            body = await ReadBodyAsync(context.Request.BodyReader, max, context.RequestAborted);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ConnectionResetException or BadHttpRequestException || IsKestrelBadRequest(ex))
        {
            // The client is gone mid-body: abort the connection too, so Kestrel does not try to drain a body
            // whose read already failed (it would log an error for what is only a client leaving).
            context.Abort();
            Abort(CloseReason.TransportError);
            return;
        }
        if (body is null)
        {
            Abort(CloseReason.MessageTooBig);
            await _server.WriteStatusAsync(context, StatusCodes.Status413PayloadTooLarge);
            return;
        }
        _server.Metrics.BytesIn(body.Length);
        var packets = new List<EngineIoPacket>();
        var decodeError = Decode(body, binaryBody, request, packets);
        if (decodeError != DecodeError.None)
        {
            _server.OnProtocolError(this, decodeError.ToString());
            Abort(CloseReason.ParseError);
            await _server.WriteErrorAsync(context, EngineIoError.BadRequest);
            return;
        }
        lock (_dispatch)
        {
            // One turn for the whole payload, as Node reads a payload in one tick: the events' handlers run at its
            // end, and not for a socket a later packet of the same payload disconnected.
            EnterTurn();
            try
            {
                foreach (var packet in packets)
                {
                    OnPacket(packet);
                }
            }
            finally
            {
                ExitTurn();
            }
        }
        await _server.WriteOkAsync(context);
    }

    private DecodeError Decode(byte[] body, bool binaryBody, EngineIoRequest request, List<EngineIoPacket> packets)
    {
        int maxPackets = _server.Options.MaxPacketsPerPayload;
        if (binaryBody)
        {
            return PollingPayload.TryDecodeV3Binary(body, maxPackets, packets);
        }
        string text;
        try
        {
            text = StrictUtf8.Encoding.GetString(body);
        }
        catch (DecoderFallbackException)
        {
            return DecodeError.BadUtf8;
        }
        if (request.IsJsonp)
        {
            if (!PollingPayload.TryReadJsonpBody(text, out text))
            {
                return DecodeError.Empty;
            }
        }
        return Protocol >= 4
            ? PollingPayload.TryDecodeV4(text, maxPackets, packets)
            : PollingPayload.TryDecodeV3Text(text, maxPackets, packets);
    }


    /// <summary>
    /// Kestrel's own BadHttpRequestException ("Unexpected end of request content" when a client closes mid-body) is
    /// not the Http one on this runtime; matched by name so the obsolete type is not referenced.
    /// </summary>
    private static bool IsKestrelBadRequest(Exception ex) =>
        ex.GetType().FullName == "Microsoft.AspNetCore.Server.Kestrel.Core.BadHttpRequestException";

    /// <summary>Whether the body comes with a content coding other than identity.</summary>
    private static bool HasContentCoding(HttpRequest request)
    {
        foreach (var value in request.Headers.ContentEncoding)
        {
            foreach (var coding in (value ?? "").Split(','))
            {
                var name = coding.Trim();
                if (name.Length > 0 && !name.Equals("identity", StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }
        return false;
    }

    private static bool IsOctetStream(string? contentType) =>
        contentType is not null && contentType.StartsWith("application/octet-stream", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads the whole body, or returns null as soon as it passes <paramref name="max"/> bytes.</summary>
    private static async Task<byte[]?> ReadBodyAsync(PipeReader reader, int max, CancellationToken ct)
    {
        while (true)
        {
            var result = await reader.ReadAsync(ct);
            var buffer = result.Buffer;
            if (buffer.Length > max)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                return null;
            }
            if (result.IsCompleted)
            {
                var bytes = buffer.ToArray();
                reader.AdvanceTo(buffer.End);
                return bytes;
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}
