using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using System.Text;

// The floor under any Socket.IO server of ours on this machine: what the kernel and .NET's sockets cost with nothing
// else. WebSocket upgrades at /socket.io/ (Engine.IO 4 only) and the codelab's answers as fixed frames, the
// `message` relay copied as it came: no HTTP stack, no validation, no allocation per message, every socket's work
// on the socket engine's thread under one lock (the server runs on one core), a connection's frames of one read
// sent in one `send`. Not a server: it trusts its client (the bench's generator) in everything.
Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
int port = 8080;
for (int i = 0; i < args.Length - 1; i++)
{
    if (args[i] == "--port")
    {
        port = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
    }
}
using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
listener.Listen(1024);
Console.WriteLine($"floor listening on 127.0.0.1:{port}");
while (true)
{
    var socket = await listener.AcceptAsync();
    socket.NoDelay = true;
    new FloorConnection(socket).Start();
}

internal sealed class FloorConnection
{
    private static readonly Lock Gate = new();
    private static readonly Dictionary<string, List<FloorConnection>> Rooms = [];
    private static readonly List<FloorConnection> Touched = [];
    private static long s_nextId;

    private readonly Socket _socket;
    private readonly SocketAsyncEventArgs _receive = new();
    private readonly string _sid;
    private byte[] _in = new byte[16 * 1024];
    private int _inCount;
    private byte[] _out = new byte[16 * 1024];
    private int _outCount;
    private bool _upgraded;
    private bool _touched;
    private bool _closed;
    private string? _room;

    public FloorConnection(Socket socket)
    {
        _socket = socket;
        _sid = "floor" + Interlocked.Increment(ref s_nextId).ToString(CultureInfo.InvariantCulture).PadLeft(15, '0');
        _receive.Completed += (_, _) =>
        {
            if (Received())
            {
                Receive();
            }
        };
    }

    public void Start() => Receive();

    private void Receive()
    {
        while (true)
        {
            if (_inCount == _in.Length)
            {
                Array.Resize(ref _in, _in.Length * 2);
            }
            _receive.SetBuffer(_in, _inCount, _in.Length - _inCount);
            if (_socket.ReceiveAsync(_receive) || !Received())
            {
                return;
            }
        }
    }

    private bool Received()
    {
        if (_receive.SocketError != SocketError.Success || _receive.BytesTransferred == 0)
        {
            Close();
            return false;
        }
        _inCount += _receive.BytesTransferred;
        bool ok;
        lock (Gate)
        {
            ok = _upgraded ? Frames() : Head();
            foreach (var c in Touched)
            {
                c.SendOut();
            }
            Touched.Clear();
        }
        if (!ok)
        {
            Close();
        }
        return ok;
    }

    private bool Head()
    {
        var data = _in.AsSpan(0, _inCount);
        int end = data.IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            return true;
        }
        var head = Encoding.ASCII.GetString(data[..end]);
        int keyAt = head.IndexOf("Sec-WebSocket-Key:", StringComparison.OrdinalIgnoreCase);
        if (!head.StartsWith("GET /socket.io/", StringComparison.Ordinal) || !head.Contains("transport=websocket", StringComparison.Ordinal) || keyAt < 0)
        {
            Append("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8);
            Touch();
            return false;
        }
        int lineEnd = head.IndexOf('\r', keyAt);
        string key = head[(keyAt + "Sec-WebSocket-Key:".Length)..(lineEnd < 0 ? head.Length : lineEnd)].Trim();
        string accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        Append(Encoding.ASCII.GetBytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept + "\r\n\r\n"));
        Frame(this, Encoding.UTF8.GetBytes("0{\"sid\":\"" + _sid + "\",\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}"));
        Consume(end + 4);
        _upgraded = true;
        return Frames();
    }

    private bool Frames()
    {
        int pos = 0;
        while (true)
        {
            var rest = _in.AsSpan(pos, _inCount - pos);
            if (rest.Length < 2)
            {
                break;
            }
            int opcode = rest[0] & 0x0F;
            int len7 = rest[1] & 0x7F;
            int lengthBytes = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
            int headerLength = 2 + lengthBytes + 4;
            if (rest.Length < headerLength)
            {
                break;
            }
            long length = lengthBytes == 2 ? BinaryPrimitives.ReadUInt16BigEndian(rest[2..]) : lengthBytes == 8 ? (long)BinaryPrimitives.ReadUInt64BigEndian(rest[2..]) : len7;
            if (rest.Length < headerLength + length)
            {
                break;
            }
            uint mask = MemoryMarshal.Read<uint>(rest.Slice(2 + lengthBytes, 4));
            var payload = rest.Slice(headerLength, (int)length);
            Unmask(payload, mask);
            pos += headerLength + (int)length;
            if (opcode == 8)
            {
                return false;
            }
            if (opcode == 1)
            {
                OnText(payload);
            }
        }
        Consume(pos);
        return true;
    }

    private void OnText(ReadOnlySpan<byte> text)
    {
        if (text.StartsWith("42[\"message\","u8) && text[^1] == (byte)']')
        {
            var arg = text[13..^1];
            Frame(this, "42[\"log\",[\"Message from server:\",\"Client said: \","u8, arg, "]]"u8);
            if (_room is not null)
            {
                foreach (var other in Rooms[_room])
                {
                    if (other != this)
                    {
                        Frame(other, "42[\"message\","u8, arg, "]"u8);
                    }
                }
            }
        }
        else if (text.SequenceEqual("40"u8))
        {
            Frame(this, Encoding.UTF8.GetBytes("40{\"sid\":\"" + _sid + "\"}"));
        }
        else if (text.StartsWith("42[\"create or join\",\""u8))
        {
            var name = text[21..];
            string room = Encoding.UTF8.GetString(name[..name.IndexOf((byte)'"')]);
            CreateOrJoin(room);
        }
    }

    private void CreateOrJoin(string room)
    {
        if (!Rooms.TryGetValue(room, out var members))
        {
            Rooms[room] = members = [];
        }
        Frame(this, Encoding.UTF8.GetBytes("42[\"log\",[\"Message from server:\",\"Received request to create or join room " + room + "\"]]"));
        Frame(this, Encoding.UTF8.GetBytes("42[\"log\",[\"Message from server:\",\"Room " + room + " now has " + members.Count + " client(s)\"]]"));
        if (members.Count == 0)
        {
            members.Add(this);
            _room = room;
            Frame(this, Encoding.UTF8.GetBytes("42[\"created\",\"" + room + "\",\"" + _sid + "\"]"));
        }
        else if (members.Count == 1)
        {
            var join = Encoding.UTF8.GetBytes("42[\"join\",\"" + room + "\"]");
            foreach (var m in members)
            {
                Frame(m, join);
            }
            members.Add(this);
            _room = room;
            Frame(this, Encoding.UTF8.GetBytes("42[\"joined\",\"" + room + "\",\"" + _sid + "\"]"));
            foreach (var m in members)
            {
                Frame(m, "42[\"ready\"]"u8);
            }
        }
        else
        {
            Frame(this, Encoding.UTF8.GetBytes("42[\"full\",\"" + room + "\"]"));
        }
    }

    private static void Frame(FloorConnection to, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b = default, ReadOnlySpan<byte> c = default)
    {
        int length = a.Length + b.Length + c.Length;
        Span<byte> header = stackalloc byte[4];
        header[0] = 0x81;
        int headerLength = 2;
        if (length < 126)
        {
            header[1] = (byte)length;
        }
        else
        {
            header[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(header[2..], (ushort)length);
            headerLength = 4;
        }
        to.Append(header[..headerLength]);
        to.Append(a);
        to.Append(b);
        to.Append(c);
        to.Touch();
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_outCount + bytes.Length > _out.Length)
        {
            Array.Resize(ref _out, Math.Max(_out.Length * 2, _outCount + bytes.Length));
        }
        bytes.CopyTo(_out.AsSpan(_outCount));
        _outCount += bytes.Length;
    }

    private void Touch()
    {
        if (!_touched)
        {
            _touched = true;
            Touched.Add(this);
        }
    }

    private void SendOut()
    {
        _touched = false;
        try
        {
            int sent = 0;
            while (sent < _outCount && !_closed)
            {
                sent += _socket.Send(_out, sent, _outCount - sent, SocketFlags.None);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            _closed = true;
        }
        _outCount = 0;
    }

    private void Consume(int count)
    {
        _in.AsSpan(count, _inCount - count).CopyTo(_in);
        _inCount -= count;
    }

    private void Close()
    {
        lock (Gate)
        {
            if (_closed && _room is null)
            {
                return;
            }
            _closed = true;
            if (_room is not null && Rooms.TryGetValue(_room, out var members))
            {
                members.Remove(this);
                if (members.Count == 0)
                {
                    Rooms.Remove(_room);
                }
                _room = null;
            }
        }
        _socket.Dispose();
    }

    private static void Unmask(Span<byte> data, uint mask)
    {
        // The four mask bytes repeated over a vector's width, then the tail byte by byte.
        var key = Vector256.Create(mask).AsByte();
        ref byte start = ref MemoryMarshal.GetReference(data);
        int i = 0;
        for (; i + Vector256<byte>.Count <= data.Length; i += Vector256<byte>.Count)
        {
            (Vector256.LoadUnsafe(ref start, (nuint)i) ^ key).StoreUnsafe(ref start, (nuint)i);
        }
        for (; i < data.Length; i++)
        {
            data[i] ^= (byte)(mask >> (8 * (i & 3)));
        }
    }
}
