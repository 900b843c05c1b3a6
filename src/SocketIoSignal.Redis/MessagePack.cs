using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace SocketIoSignal.Redis;

/// <summary>
/// The MessagePack subset the Node Redis adapter (notepack.io) writes and reads: nil, booleans, integers,
/// float 32/64, str, bin, array, map, ext (notepack's undefined and Date). Big-endian, as the format says.
/// </summary>
internal ref struct MessagePackWriter(IBufferWriter<byte> output)
{
    private readonly IBufferWriter<byte> _output = output;

    public void WriteNil() => WriteByte(0xc0);

    public void WriteBoolean(bool value) => WriteByte(value ? (byte)0xc3 : (byte)0xc2);

    public void WriteInteger(long value)
    {
        if (value >= 0)
        {
            if (value < 0x80)
            {
                WriteByte((byte)value);
            }
            else if (value < 0x100)
            {
                WriteHeader8(0xcc, (byte)value);
            }
            else if (value < 0x10000)
            {
                WriteHeader16(0xcd, (ushort)value);
            }
            else if (value < 0x100000000)
            {
                WriteHeader32(0xce, (uint)value);
            }
            else
            {
                var span = _output.GetSpan(9);
                span[0] = 0xcf;
                BinaryPrimitives.WriteUInt64BigEndian(span[1..], (ulong)value);
                _output.Advance(9);
            }
        }
        else if (value >= -0x20)
        {
            WriteByte((byte)(sbyte)value);
        }
        else if (value >= -0x80)
        {
            WriteHeader8(0xd0, (byte)(sbyte)value);
        }
        else if (value >= -0x8000)
        {
            WriteHeader16(0xd1, (ushort)(short)value);
        }
        else if (value >= -0x80000000L)
        {
            WriteHeader32(0xd2, (uint)(int)value);
        }
        else
        {
            var span = _output.GetSpan(9);
            span[0] = 0xd3;
            BinaryPrimitives.WriteInt64BigEndian(span[1..], value);
            _output.Advance(9);
        }
    }

    public void WriteDouble(double value)
    {
        var span = _output.GetSpan(9);
        span[0] = 0xcb;
        BinaryPrimitives.WriteDoubleBigEndian(span[1..], value);
        _output.Advance(9);
    }

    /// <summary>A JavaScript number: an integer encoding when it is one (as notepack writes), else float 64.</summary>
    public void WriteNumber(double value)
    {
        if (Math.Floor(value) == value && double.IsFinite(value) && Math.Abs(value) < 9.2e18)
        {
            WriteInteger((long)value);
        }
        else
        {
            WriteDouble(value);
        }
    }

    public void WriteString(string value)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        WriteStringHeader(length);
        var span = _output.GetSpan(length);
        Encoding.UTF8.GetBytes(value, span);
        _output.Advance(length);
    }

    /// <summary>A string already in UTF-8.</summary>
    public void WriteString(ReadOnlySpan<byte> utf8)
    {
        WriteStringHeader(utf8.Length);
        WriteRaw(utf8);
    }

    public void WriteBinary(ReadOnlySpan<byte> data)
    {
        if (data.Length < 0x100)
        {
            WriteHeader8(0xc4, (byte)data.Length);
        }
        else if (data.Length < 0x10000)
        {
            WriteHeader16(0xc5, (ushort)data.Length);
        }
        else
        {
            WriteHeader32(0xc6, (uint)data.Length);
        }
        WriteRaw(data);
    }

    public void WriteArrayHeader(int count)
    {
        if (count < 0x10)
        {
            WriteByte((byte)(0x90 | count));
        }
        else if (count < 0x10000)
        {
            WriteHeader16(0xdc, (ushort)count);
        }
        else
        {
            WriteHeader32(0xdd, (uint)count);
        }
    }

    public void WriteMapHeader(int count)
    {
        if (count < 0x10)
        {
            WriteByte((byte)(0x80 | count));
        }
        else if (count < 0x10000)
        {
            WriteHeader16(0xde, (ushort)count);
        }
        else
        {
            WriteHeader32(0xdf, (uint)count);
        }
    }

    private void WriteStringHeader(int length)
    {
        if (length < 0x20)
        {
            WriteByte((byte)(0xa0 | length));
        }
        else if (length < 0x100)
        {
            WriteHeader8(0xd9, (byte)length);
        }
        else if (length < 0x10000)
        {
            WriteHeader16(0xda, (ushort)length);
        }
        else
        {
            WriteHeader32(0xdb, (uint)length);
        }
    }

    private void WriteRaw(ReadOnlySpan<byte> data)
    {
        var span = _output.GetSpan(data.Length);
        data.CopyTo(span);
        _output.Advance(data.Length);
    }

    private void WriteByte(byte value)
    {
        _output.GetSpan(1)[0] = value;
        _output.Advance(1);
    }

    private void WriteHeader8(byte code, byte value)
    {
        var span = _output.GetSpan(2);
        span[0] = code;
        span[1] = value;
        _output.Advance(2);
    }

    private void WriteHeader16(byte code, ushort value)
    {
        var span = _output.GetSpan(3);
        span[0] = code;
        BinaryPrimitives.WriteUInt16BigEndian(span[1..], value);
        _output.Advance(3);
    }

    private void WriteHeader32(byte code, uint value)
    {
        var span = _output.GetSpan(5);
        span[0] = code;
        BinaryPrimitives.WriteUInt32BigEndian(span[1..], value);
        _output.Advance(5);
    }
}

internal enum MessagePackType
{
    Nil,
    Boolean,
    Integer,
    Float,
    String,
    Binary,
    Array,
    Map,
    Extension,
}

/// <summary>Reads MessagePack values one token at a time; throws <see cref="FormatException"/> on bad input.</summary>
internal ref struct MessagePackReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _position;

    public readonly bool End => _position >= _data.Length;

    public readonly MessagePackType PeekType()
    {
        byte code = Peek();
        return code switch
        {
            <= 0x7f => MessagePackType.Integer,
            <= 0x8f => MessagePackType.Map,
            <= 0x9f => MessagePackType.Array,
            <= 0xbf => MessagePackType.String,
            0xc0 => MessagePackType.Nil,
            0xc2 or 0xc3 => MessagePackType.Boolean,
            0xc4 or 0xc5 or 0xc6 => MessagePackType.Binary,
            0xc7 or 0xc8 or 0xc9 or 0xd4 or 0xd5 or 0xd6 or 0xd7 or 0xd8 => MessagePackType.Extension,
            0xca or 0xcb => MessagePackType.Float,
            >= 0xcc and <= 0xd3 => MessagePackType.Integer,
            >= 0xd9 and <= 0xdb => MessagePackType.String,
            0xdc or 0xdd => MessagePackType.Array,
            0xde or 0xdf => MessagePackType.Map,
            >= 0xe0 => MessagePackType.Integer,
            _ => throw new FormatException($"MessagePack: unknown type 0x{code:x2}"),
        };
    }

    public void ReadNil()
    {
        if (ReadByte() != 0xc0)
        {
            throw new FormatException("MessagePack: nil expected");
        }
    }

    public bool ReadBoolean() => ReadByte() switch
    {
        0xc2 => false,
        0xc3 => true,
        _ => throw new FormatException("MessagePack: boolean expected"),
    };

    public long ReadInteger()
    {
        byte code = ReadByte();
        return code switch
        {
            <= 0x7f => code,
            >= 0xe0 => (sbyte)code,
            0xcc => ReadByte(),
            0xcd => BinaryPrimitives.ReadUInt16BigEndian(Take(2)),
            0xce => BinaryPrimitives.ReadUInt32BigEndian(Take(4)),
            0xcf => (long)BinaryPrimitives.ReadUInt64BigEndian(Take(8)),
            0xd0 => (sbyte)ReadByte(),
            0xd1 => BinaryPrimitives.ReadInt16BigEndian(Take(2)),
            0xd2 => BinaryPrimitives.ReadInt32BigEndian(Take(4)),
            0xd3 => BinaryPrimitives.ReadInt64BigEndian(Take(8)),
            _ => throw new FormatException("MessagePack: integer expected"),
        };
    }

    /// <summary>An integer 0xcf above long.MaxValue, as JavaScript would read it (a double).</summary>
    public readonly bool PeekIsLargeUnsigned() =>
        Peek() == 0xcf && _data.Length - _position > 8 && BinaryPrimitives.ReadUInt64BigEndian(_data.Slice(_position + 1, 8)) > long.MaxValue;

    public double ReadDouble()
    {
        byte code = ReadByte();
        return code switch
        {
            0xca => BinaryPrimitives.ReadSingleBigEndian(Take(4)),
            0xcb => BinaryPrimitives.ReadDoubleBigEndian(Take(8)),
            0xcf => BinaryPrimitives.ReadUInt64BigEndian(Take(8)),
            _ => throw new FormatException("MessagePack: float expected"),
        };
    }

    /// <summary>The UTF-8 bytes of a string.</summary>
    public ReadOnlySpan<byte> ReadStringBytes()
    {
        byte code = ReadByte();
        int length = code switch
        {
            >= 0xa0 and <= 0xbf => code & 0x1f,
            0xd9 => ReadByte(),
            0xda => BinaryPrimitives.ReadUInt16BigEndian(Take(2)),
            0xdb => Length(BinaryPrimitives.ReadUInt32BigEndian(Take(4))),
            _ => throw new FormatException("MessagePack: string expected"),
        };
        return Take(length);
    }

    public string ReadString() => Encoding.UTF8.GetString(ReadStringBytes());

    public ReadOnlySpan<byte> ReadBinary()
    {
        byte code = ReadByte();
        int length = code switch
        {
            0xc4 => ReadByte(),
            0xc5 => BinaryPrimitives.ReadUInt16BigEndian(Take(2)),
            0xc6 => Length(BinaryPrimitives.ReadUInt32BigEndian(Take(4))),
            _ => throw new FormatException("MessagePack: binary expected"),
        };
        return Take(length);
    }

    public int ReadArrayHeader()
    {
        byte code = ReadByte();
        return code switch
        {
            >= 0x90 and <= 0x9f => code & 0x0f,
            0xdc => BinaryPrimitives.ReadUInt16BigEndian(Take(2)),
            0xdd => Length(BinaryPrimitives.ReadUInt32BigEndian(Take(4))),
            _ => throw new FormatException("MessagePack: array expected"),
        };
    }

    public int ReadMapHeader()
    {
        byte code = ReadByte();
        return code switch
        {
            >= 0x80 and <= 0x8f => code & 0x0f,
            0xde => BinaryPrimitives.ReadUInt16BigEndian(Take(2)),
            0xdf => Length(BinaryPrimitives.ReadUInt32BigEndian(Take(4))),
            _ => throw new FormatException("MessagePack: map expected"),
        };
    }

    public ReadOnlySpan<byte> ReadExtension(out sbyte type)
    {
        byte code = ReadByte();
        int length = code switch
        {
            0xd4 => 1,
            0xd5 => 2,
            0xd6 => 4,
            0xd7 => 8,
            0xd8 => 16,
            0xc7 => ReadByte(),
            0xc8 => BinaryPrimitives.ReadUInt16BigEndian(Take(2)),
            0xc9 => Length(BinaryPrimitives.ReadUInt32BigEndian(Take(4))),
            _ => throw new FormatException("MessagePack: extension expected"),
        };
        type = (sbyte)ReadByte();
        return Take(length);
    }

    /// <summary>Skips one whole value (with its children), at most <see cref="MaxDepth"/> levels deep.</summary>
    public void Skip() => Skip(0);

    /// <summary>Nesting deeper than this is refused: a hostile message must not exhaust the stack.</summary>
    public const int MaxDepth = 256;

    private void Skip(int depth)
    {
        if (depth > MaxDepth)
        {
            throw new FormatException("MessagePack: nested too deeply");
        }
        switch (PeekType())
        {
            case MessagePackType.Nil:
                ReadNil();
                break;
            case MessagePackType.Boolean:
                ReadBoolean();
                break;
            case MessagePackType.Integer:
                if (PeekIsLargeUnsigned())
                {
                    ReadDouble();
                }
                else
                {
                    ReadInteger();
                }
                break;
            case MessagePackType.Float:
                ReadDouble();
                break;
            case MessagePackType.String:
                ReadStringBytes();
                break;
            case MessagePackType.Binary:
                ReadBinary();
                break;
            case MessagePackType.Extension:
                ReadExtension(out _);
                break;
            case MessagePackType.Array:
                for (int n = ReadArrayHeader(); n > 0; n--)
                {
                    Skip(depth + 1);
                }
                break;
            case MessagePackType.Map:
                for (long n = ReadMapHeader() * 2L; n > 0; n--)
                {
                    Skip(depth + 1);
                }
                break;
        }
    }

    /// <summary>A 32-bit length as an int; beyond int (or beyond what is left) is malformed, not an overflow.</summary>
    private readonly int Length(uint length) =>
        length > (uint)(_data.Length - _position) ? throw new FormatException("MessagePack: length beyond the message") : (int)length;

    private readonly byte Peek()
    {
        if (_position >= _data.Length)
        {
            throw new FormatException("MessagePack: unexpected end");
        }
        return _data[_position];
    }

    private byte ReadByte()
    {
        byte b = Peek();
        _position++;
        return b;
    }

    private ReadOnlySpan<byte> Take(int length)
    {
        if (length < 0 || _data.Length - _position < length)
        {
            throw new FormatException("MessagePack: unexpected end");
        }
        var slice = _data.Slice(_position, length);
        _position += length;
        return slice;
    }
}
