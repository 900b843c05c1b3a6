using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace SocketIoSignal.Tests.Infrastructure;

/// <summary>Keeps every log line; Errors separately.</summary>
public sealed class LogSink : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ConcurrentQueue<string> Errors { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogSink sink, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var line = $"{logLevel} {category}: {formatter(state, exception)} {exception}";
            sink.Lines.Enqueue(line);
            if (logLevel >= LogLevel.Error)
            {
                sink.Errors.Enqueue(line);
            }
        }
    }
}
