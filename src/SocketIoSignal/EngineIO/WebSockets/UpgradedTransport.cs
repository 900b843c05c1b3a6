using System.IO.Pipelines;

namespace SocketIoSignal.EngineIO.WebSockets;

/// <summary>
/// What an upgrade taken at the connection level hands over: the connection's own pipes, which
/// <see cref="WebSocketConnection"/> reads and writes directly. As a stream it reads and writes the same pipes.
/// </summary>
internal sealed class UpgradedTransport(IDuplexPipe transport, Action abort) : Stream
{
    /// <summary>Cuts the connection off (the request's own abort is not kept: its context is let go after the upgrade).</summary>
    public Action Abort => abort;

    private Stream? _reader;
    private Stream? _writer;

    public PipeReader Input => transport.Input;

    public PipeWriter Output => transport.Output;

    private Stream Reader => _reader ??= transport.Input.AsStream(leaveOpen: true);

    private Stream Writer => _writer ??= transport.Output.AsStream(leaveOpen: true);

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush() => Writer.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => Writer.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => Reader.Read(buffer, offset, count);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => Reader.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Reader.ReadAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => Writer.Write(buffer, offset, count);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => Writer.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Writer.WriteAsync(buffer, offset, count, cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
