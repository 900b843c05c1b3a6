namespace SocketIoSignal.Tests.Browser;

/// <summary>Test instrumentation added to a page before its own scripts run; none of it is part of the page.</summary>
internal static class PageScripts
{
    /// <summary>
    /// Records every Socket.IO event the page's socket receives into <c>window[<paramref name="array"/>]</c>, as an
    /// array of strings per event (the page itself prints nothing for joined and ready), by wrapping io.connect when
    /// the client bundle defines io. Works with every client generation (onAny from 3.x, onevent before).
    /// </summary>
    public static string RecordSocketEvents(string array) => $$"""
        (() => {
          window.{{array}} = window.{{array}} || [];
          let io;
          Object.defineProperty(window, 'io', {
            configurable: true,
            get() { return io; },
            set(value) {
              const connect = value.connect || value;
              value.connect = function () {
                const socket = connect.apply(this, arguments);
                const record = args => window.{{array}}.push(args.map(a => typeof a === 'string' ? a : JSON.stringify(a)));
                if (typeof socket.onAny === 'function') {
                  socket.onAny(function () { record(Array.from(arguments)); });
                } else {
                  const onevent = socket.onevent;
                  socket.onevent = function (packet) { record(packet.data || []); return onevent.apply(this, arguments); };
                }
                return socket;
              };
              io = value;
            }
          });
        })();
        """;
}
