using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using SocketIoSignal.EngineIO;
using SocketIoSignal.SocketIO;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Hostile;

/// <summary>A raw TCP connection for what no client library sends; it can end with a reset (RST).</summary>
public sealed class RawTcp : IAsyncDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly List<byte> _pending = [];

    public static async Task<RawTcp> ConnectAsync(int port, int receiveBuffer = 0)
    {
        var c = new RawTcp();
        if (receiveBuffer > 0)
        {
            c._socket.ReceiveBufferSize = receiveBuffer;
        }
        await c._socket.ConnectAsync(IPAddress.Loopback, port).Within();
        return c;
    }

    public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text));

    public async Task SendAsync(byte[] data)
    {
        await _socket.SendAsync(data, SocketFlags.None).Within();
    }

    /// <summary>Closes with linger 0: the kernel sends RST instead of FIN.</summary>
    public void Reset()
    {
        _socket.LingerState = new LingerOption(true, 0);
        _socket.Close();
    }

    /// <summary>True when the peer ends the connection (FIN or RST) within the bound; what it sent is discarded.</summary>
    public async Task<bool> EndsAsync(TimeSpan? timeout = null)
    {
        try
        {
            await ReadToEndAsync(timeout);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Reads until the peer closes or the timeout passes; returns everything read.</summary>
    public async Task<byte[]> ReadToEndAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TaskTimeouts.Default);
        var buffer = new byte[8192];
        try
        {
            while (true)
            {
                int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                if (n == 0)
                {
                    break;
                }
                _pending.AddRange(buffer.AsSpan(0, n));
            }
        }
        catch (SocketException)
        {
            // reset by the server: it ended the connection
        }
        var all = _pending.ToArray();
        _pending.Clear();
        return all;
    }

    /// <summary>Reads (bounded) until the bytes received contain <paramref name="marker"/>; returns them as text.</summary>
    public async Task<string> ReadUntilAsync(string marker, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TaskTimeouts.Default);
        var buffer = new byte[8192];
        var needle = Encoding.UTF8.GetBytes(marker);
        while (IndexOf(needle) < 0)
        {
            int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            if (n == 0)
            {
                throw new IOException("closed before " + marker);
            }
            _pending.AddRange(buffer.AsSpan(0, n));
        }
        var text = Encoding.Latin1.GetString(_pending.ToArray());
        _pending.Clear();
        return text;
    }

    /// <summary>Reads the status line and headers (and a Content-Length body) of one response.</summary>
    public async Task<(int Status, string Head, string Body)> ReadResponseAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TaskTimeouts.Default);
        var buffer = new byte[8192];
        int end;
        while ((end = IndexOf("\r\n\r\n"u8)) < 0)
        {
            int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            if (n == 0)
            {
                throw new IOException("closed before a response");
            }
            _pending.AddRange(buffer.AsSpan(0, n));
        }
        var head = Encoding.ASCII.GetString(_pending.GetRange(0, end).ToArray());
        _pending.RemoveRange(0, end + 4);
        int status = int.Parse(head.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var lengthLine = head.Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        int length = lengthLine is null ? 0 : int.Parse(lengthLine["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        while (_pending.Count < length)
        {
            int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            if (n == 0)
            {
                break;
            }
            _pending.AddRange(buffer.AsSpan(0, n));
        }
        var body = Encoding.UTF8.GetString(_pending.GetRange(0, Math.Min(length, _pending.Count)).ToArray());
        _pending.RemoveRange(0, Math.Min(length, _pending.Count));
        return (status, head, body);
    }

    /// <summary>Sends a WebSocket upgrade request and reads the answer's head.</summary>
    public async Task<int> UpgradeAsync(string pathAndQuery, string? extraHeaders = null)
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        await SendAsync($"GET {pathAndQuery} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extraHeaders}\r\n");
        var (status, _, _) = await ReadResponseAsync();
        return status;
    }

    /// <summary>One client WebSocket frame (masked unless told otherwise).</summary>
    public Task SendFrameAsync(int opcode, byte[] payload, bool fin = true, bool mask = true) =>
        SendAsync(ClientFrames.Frame((fin ? 0x80 : 0) | opcode, payload, mask));

    /// <summary>Reads one server frame (unmasked, as servers send them): its first byte and its payload.</summary>
    public async Task<(int B0, byte[] Payload)> ReadFrameAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TaskTimeouts.Default);
        await FillAsync(2, cts.Token);
        int b0 = _pending[0];
        int len = _pending[1] & 0x7F;
        int header = 2;
        if (len == 126)
        {
            await FillAsync(4, cts.Token);
            len = (_pending[2] << 8) | _pending[3];
            header = 4;
        }
        else if (len == 127)
        {
            await FillAsync(10, cts.Token);
            len = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(_pending.GetRange(2, 8).ToArray());
            header = 10;
        }
        await FillAsync(header + len, cts.Token);
        var payload = _pending.GetRange(header, len).ToArray();
        _pending.RemoveRange(0, header + len);
        return (b0, payload);
    }

    /// <summary>Reads frames until a close frame; returns its code (0 when it had none) and reason.</summary>
    public async Task<(int Code, string Reason)> ReadCloseFrameAsync(TimeSpan? timeout = null)
    {
        while (true)
        {
            var (b0, payload) = await ReadFrameAsync(timeout);
            if ((b0 & 0x0F) == 8)
            {
                return payload.Length < 2 ? (0, "") : ((payload[0] << 8) | payload[1], Encoding.UTF8.GetString(payload, 2, payload.Length - 2));
            }
        }
    }

    /// <summary>
    /// Half-closes our side and reads until the server ends the connection: true for a FIN, false for a reset.
    /// </summary>
    public async Task<bool> EndsWithFinAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TaskTimeouts.Default);
        var buffer = new byte[8192];
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
            while (await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token) > 0)
            {
            }
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private async Task FillAsync(int count, CancellationToken token)
    {
        var buffer = new byte[8192];
        while (_pending.Count < count)
        {
            int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, token);
            if (n == 0)
            {
                throw new IOException($"closed after {_pending.Count} of {count} bytes");
            }
            _pending.AddRange(buffer.AsSpan(0, n));
        }
    }

    private int IndexOf(ReadOnlySpan<byte> needle) =>
        System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending).IndexOf(needle);

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
