using SocketIoSignal.Samples.Chat;

// The socket.io chat demo on SocketIoSignal: nicknames, rooms, a user list and "is typing".
// `dotnet run --project samples/Chat`, then open http://localhost:3000 in two tabs.
var builder = WebApplication.CreateBuilder(args);
if (string.IsNullOrEmpty(builder.Configuration["urls"]))
{
    // The socket.io chat demo's port; --urls (or ASPNETCORE_URLS) chooses another.
    builder.WebHost.UseUrls("http://localhost:3000");
}
builder.Services.AddSingleton<ChatRooms>();
builder.Services.AddSocketIo().AddConnectionHandler<ChatHandler>();

var app = builder.Build();
app.UseDefaultFiles();
app.UseStaticFiles();
// Socket.IO at /socket.io/, and the socket.io-client bundle the page loads at /socket.io/socket.io.js.
app.MapSocketIo("/socket.io");
app.Run();
