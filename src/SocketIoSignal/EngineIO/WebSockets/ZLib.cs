using System.Runtime.InteropServices;

namespace SocketIoSignal.EngineIO.WebSockets;

/// <summary>
/// Raw DEFLATE (RFC 1951) through the zlib the .NET runtime ships (libSystem.IO.Compression.Native): DeflateStream
/// offers neither window bits nor a flush that keeps the stream open without a stream around it, both of which
/// permessage-deflate needs. One instance is one z_stream; not thread-safe.
/// </summary>
internal sealed unsafe class ZLibStream : IDisposable
{
    private const string Library = "libSystem.IO.Compression.Native";

    private const int ZOk = 0;
    private const int ZStreamEnd = 1;
    private const int ZBufError = -5;

    /// <summary>Z_SYNC_FLUSH: what has been given is output, ending on a byte boundary with an empty stored block.</summary>
    internal const int SyncFlush = 2;

    /// <summary>Z_FULL_FLUSH: as <see cref="SyncFlush"/>, and what follows refers to nothing before it.</summary>
    internal const int FullFlush = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct PalZStream
    {
        public byte* NextIn;
        public byte* NextOut;
        public IntPtr Message;
        public IntPtr InternalState;
        public uint AvailIn;
        public uint AvailOut;
    }

    [DllImport(Library, EntryPoint = "CompressionNative_DeflateInit2_")]
    private static extern int DeflateInit2(PalZStream* stream, int level, int method, int windowBits, int memLevel, int strategy);

    [DllImport(Library, EntryPoint = "CompressionNative_Deflate")]
    private static extern int Deflate(PalZStream* stream, int flush);

    [DllImport(Library, EntryPoint = "CompressionNative_DeflateEnd")]
    private static extern int DeflateEnd(PalZStream* stream);

    [DllImport(Library, EntryPoint = "CompressionNative_InflateInit2_")]
    private static extern int InflateInit2(PalZStream* stream, int windowBits);

    [DllImport(Library, EntryPoint = "CompressionNative_Inflate")]
    private static extern int Inflate(PalZStream* stream, int flush);

    [DllImport(Library, EntryPoint = "CompressionNative_InflateEnd")]
    private static extern int InflateEnd(PalZStream* stream);

    [DllImport(Library, EntryPoint = "CompressionNative_InflateReset2_")]
    private static extern int InflateReset2(PalZStream* stream, int windowBits);

    private PalZStream* _stream;
    private readonly bool _deflate;
    private readonly int _windowBits;

    private ZLibStream(bool deflate, int windowBits, int level)
    {
        _deflate = deflate;
        _windowBits = windowBits;
        _stream = (PalZStream*)NativeMemory.AllocZeroed((nuint)sizeof(PalZStream));
        // Negative window bits: raw DEFLATE, no zlib header or trailer. zlib makes 8 into 9 for raw deflate.
        int rc = deflate
            ? DeflateInit2(_stream, level, 8, -Math.Max(9, windowBits), 8, 0)
            : InflateInit2(_stream, -Math.Max(9, windowBits));
        if (rc != ZOk)
        {
            NativeMemory.Free(_stream);
            _stream = null;
            throw new InvalidOperationException("zlib init failed: " + rc);
        }
    }

    /// <summary>A compressor with a window of 2^<paramref name="windowBits"/> bytes.</summary>
    public static ZLibStream CreateDeflater(int windowBits, int level = 6) => new(true, windowBits, level);

    /// <summary>A decompressor for streams with a window up to 2^<paramref name="windowBits"/> bytes.</summary>
    public static ZLibStream CreateInflater(int windowBits) => new(false, windowBits, 0);

    ~ZLibStream() => Free();

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        if (_stream is null)
        {
            return;
        }
        if (_deflate)
        {
            DeflateEnd(_stream);
        }
        else
        {
            InflateEnd(_stream);
        }
        NativeMemory.Free(_stream);
        _stream = null;
    }

    /// <summary>Forgets the window (an inflater for a peer without context takeover).</summary>
    public void ResetInflater()
    {
        ObjectDisposedException.ThrowIf(_stream is null, this);
        InflateReset2(_stream, -Math.Max(9, _windowBits));
    }

    /// <summary>Result codes of <see cref="Step"/>.</summary>
    internal enum Status
    {
        /// <summary>Progress was made (or the flush is complete).</summary>
        Ok,
        /// <summary>The end of a DEFLATE stream (a final block) was reached.</summary>
        StreamEnd,
        /// <summary>No progress was possible (no input, or no room for output).</summary>
        NoProgress,
        /// <summary>The input is not valid DEFLATE.</summary>
        Corrupt,
    }

    /// <summary>
    /// One call of deflate or inflate with <paramref name="flush"/>: takes from <paramref name="input"/> (sliced past
    /// what was read) and writes into <paramref name="output"/>; <paramref name="produced"/> is how much was written.
    /// </summary>
    public Status Step(ref ReadOnlySpan<byte> input, Span<byte> output, int flush, out int produced)
    {
        ObjectDisposedException.ThrowIf(_stream is null, this);
        int rc;
        fixed (byte* inp = input)
        fixed (byte* outp = output)
        {
            _stream->NextIn = inp;
            _stream->AvailIn = (uint)input.Length;
            _stream->NextOut = outp;
            _stream->AvailOut = (uint)output.Length;
            rc = _deflate ? Deflate(_stream, flush) : Inflate(_stream, flush);
            produced = output.Length - (int)_stream->AvailOut;
            input = input[(input.Length - (int)_stream->AvailIn)..];
            _stream->NextIn = null;
            _stream->NextOut = null;
        }
        return rc switch
        {
            ZOk => Status.Ok,
            ZStreamEnd => Status.StreamEnd,
            ZBufError => Status.NoProgress,
            _ => Status.Corrupt,
        };
    }
}
