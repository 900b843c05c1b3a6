using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using NUnit.Framework;
using SocketIoSignal.Tests.Infrastructure;

namespace SocketIoSignal.Tests.Interop;

/// <summary>Writes the matrix report once every test of the Interop namespace has run.</summary>
[SetUpFixture]
public sealed class InteropMatrixReport
{
    [OneTimeTearDown]
    public void Write() => InteropMatrix.WriteReport();
}
