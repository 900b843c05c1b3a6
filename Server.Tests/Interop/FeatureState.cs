using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Interop;

public enum FeatureState
{
    Ok,
    Failed,
    NotApplicable,
}
