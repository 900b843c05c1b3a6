using Microsoft.Playwright;
using NUnit.Framework;
using SocketIoSignal.Tests.Browser;
using SocketIoSignal.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace SocketIoSignal.Tests.Samples;

/// <summary>
/// samples/Chat in headless Chromium: its own page, the client bundle from the server, two or three users logging
/// in, typing, talking, moving between rooms and leaving. One app and one browser for the fixture; each test uses
/// rooms of its own and a browser context per user (as separate people would).
/// </summary>
[TestFixture]
public sealed class ChatSampleTests
{
    private const float Timeout = 15000;

    private ChromiumHost _chromium = null!;
    private ChatProcess _chat = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _chat = await ChatProcess.StartAsync();
        _chromium = await ChromiumHost.LaunchAsync();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_chromium is not null)
        {
            await _chromium.DisposeAsync();
        }
        if (_chat is not null)
        {
            await _chat.DisposeAsync();
        }
    }

    [Test]
    public async Task ThePageAndTheClientBundleAreServed()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var page = await http.GetStringAsync(_chat.Url + "/").Within();
        Assert.That(page, Does.Contain("<script src=\"/socket.io/socket.io.js\"></script>"));
        var bundle = await http.GetStringAsync(_chat.Url + "/socket.io/socket.io.js").Within();
        Assert.That(bundle, Does.Contain("4.8.1"), "the 4.x bundle, MapSocketIo's default");
        using var script = await http.GetAsync(_chat.Url + "/main.js").Within();
        Assert.That(script.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/javascript"));
    }

    [Test]
    public async Task TwoUsersSeeEachOtherTypeTalkAndLeave()
    {
        await using var aliceContext = await NewContextAsync();
        await using var bobContext = await NewContextAsync();
        var alice = await LogInAsync(aliceContext, "/", "alice", "plaza");
        await Expect(alice.Locator("#messages li.log").First).ToHaveTextAsync("Welcome to #plaza, alice. You are the only one here.", new() { Timeout = Timeout }).Within(Wait);
        await Expect(alice.Locator("#participants")).ToHaveTextAsync("1 participant", new() { Timeout = Timeout }).Within(Wait);

        var bob = await LogInAsync(bobContext, "/", "bob", "plaza");
        await Expect(bob.Locator("#messages li.log").First).ToHaveTextAsync("Welcome to #plaza, bob. There are 2 participants.", new() { Timeout = Timeout }).Within(Wait);
        await Expect(alice.Locator("#messages li.log").Last).ToHaveTextAsync("bob joined (2 participants)", new() { Timeout = Timeout }).Within(Wait);
        foreach (var page in new[] { alice, bob })
        {
            await Expect(page.Locator("#users li")).ToHaveTextAsync(["alice", "bob"], new() { Timeout = Timeout }).Within(Wait);
            await Expect(page.Locator("#participants")).ToHaveTextAsync("2 participants", new() { Timeout = Timeout }).Within(Wait);
            await Expect(page.Locator("#room-title")).ToHaveTextAsync("plaza", new() { Timeout = Timeout }).Within(Wait);
        }
        await Expect(bob.Locator("#users li.me")).ToHaveTextAsync("bob", new() { Timeout = Timeout }).Within(Wait);

        // Bob types: Alice sees it, then his message, and the typing line goes.
        await bob.Locator("#message").PressSequentiallyAsync("hello ali", new() { Timeout = Timeout }).Within(Wait);
        await Expect(alice.Locator("#typing")).ToHaveTextAsync("bob is typing…", new() { Timeout = Timeout }).Within(Wait);
        await Expect(bob.Locator("#typing")).ToBeEmptyAsync(new() { Timeout = Timeout }).Within(Wait);
        await bob.Locator("#message").PressSequentiallyAsync("ce <b>", new() { Timeout = Timeout }).Within(Wait);
        await bob.Locator("#message").PressAsync("Enter", new() { Timeout = Timeout }).Within(Wait);
        var received = alice.Locator("#messages li.message");
        await Expect(received).ToHaveTextAsync(["bob hello alice <b>"], new() { Timeout = Timeout }).Within(Wait);
        await Expect(received.Locator(".username")).ToHaveTextAsync("bob", new() { Timeout = Timeout }).Within(Wait);
        await Expect(alice.Locator("#typing")).ToBeEmptyAsync(new() { Timeout = Timeout }).Within(Wait);
        await Expect(bob.Locator("#messages li.message.mine")).ToHaveTextAsync(["bob hello alice <b>"], new() { Timeout = Timeout }).Within(Wait);
        Assert.That(await received.Locator("b").CountAsync().Within(Wait), Is.Zero, "a message is text, never HTML");

        // Alice answers.
        await alice.Locator("#message").FillAsync("hi bob", new() { Timeout = Timeout }).Within(Wait);
        await alice.Locator("#send button").ClickAsync(new() { Timeout = Timeout }).Within(Wait);
        await Expect(bob.Locator("#messages li.message:not(.mine)")).ToHaveTextAsync(["alice hi bob"], new() { Timeout = Timeout }).Within(Wait);

        // Bob closes his tab.
        await bob.CloseAsync().Within(Wait);
        await Expect(alice.Locator("#messages li.log").Last).ToHaveTextAsync("bob left (1 participant)", new() { Timeout = Timeout }).Within(Wait);
        await Expect(alice.Locator("#users li")).ToHaveTextAsync(["alice"], new() { Timeout = Timeout }).Within(Wait);
        await Expect(alice.Locator("#participants")).ToHaveTextAsync("1 participant", new() { Timeout = Timeout }).Within(Wait);
    }

    [Test]
    public async Task RoomsKeepTheirConversationsApart()
    {
        await using var aliceContext = await NewContextAsync();
        await using var bobContext = await NewContextAsync();
        await using var carolContext = await NewContextAsync();
        var alice = await LogInAsync(aliceContext, "/", "alice", "north");
        var bob = await LogInAsync(bobContext, "/", "bob", "north");
        await Expect(alice.Locator("#users li")).ToHaveTextAsync(["alice", "bob"], new() { Timeout = Timeout }).Within(Wait);

        // The room can be named by the address: /#south fills in the login form's room.
        var carol = await OpenAsync(carolContext, "/#south");
        await Expect(carol.Locator("#login-room")).ToHaveValueAsync("south", new() { Timeout = Timeout }).Within(Wait);
        await carol.Locator("#nickname").FillAsync("carol", new() { Timeout = Timeout }).Within(Wait);
        await carol.Locator("#login button").ClickAsync(new() { Timeout = Timeout }).Within(Wait);
        await Expect(carol.Locator("#room-title")).ToHaveTextAsync("south", new() { Timeout = Timeout }).Within(Wait);
        await Expect(carol.Locator("#users li")).ToHaveTextAsync(["carol"], new() { Timeout = Timeout }).Within(Wait);

        // Every page lists both rooms with their numbers of users.
        foreach (var page in new[] { alice, bob, carol })
        {
            await Expect(page.Locator("#rooms li").Filter(new() { HasText = "#north" })).ToHaveTextAsync("#north 2", new() { Timeout = Timeout }).Within(Wait);
            await Expect(page.Locator("#rooms li").Filter(new() { HasText = "#south" })).ToHaveTextAsync("#south 1", new() { Timeout = Timeout }).Within(Wait);
        }

        await alice.Locator("#message").FillAsync("north only", new() { Timeout = Timeout }).Within(Wait);
        await alice.Locator("#message").PressAsync("Enter", new() { Timeout = Timeout }).Within(Wait);
        await Expect(bob.Locator("#messages li.message")).ToHaveTextAsync(["alice north only"], new() { Timeout = Timeout }).Within(Wait);

        // Bob goes south through the room list's link: north sees him leave, south sees him come.
        await bob.Locator("#rooms a[href='#south']").ClickAsync(new() { Timeout = Timeout }).Within(Wait);
        await Expect(bob.Locator("#room-title")).ToHaveTextAsync("south", new() { Timeout = Timeout }).Within(Wait);
        await Expect(bob).ToHaveURLAsync(_chat.Url + "/#south", new() { Timeout = Timeout }).Within(Wait);
        await Expect(bob.Locator("#users li")).ToHaveTextAsync(["bob", "carol"], new() { Timeout = Timeout }).Within(Wait);
        await Expect(bob.Locator("#messages li.message")).ToHaveCountAsync(0, new() { Timeout = Timeout }).Within(Wait);
        await Expect(alice.Locator("#messages li.log").Last).ToHaveTextAsync("bob left (1 participant)", new() { Timeout = Timeout }).Within(Wait);
        await Expect(alice.Locator("#users li")).ToHaveTextAsync(["alice"], new() { Timeout = Timeout }).Within(Wait);
        await Expect(carol.Locator("#messages li.log").Last).ToHaveTextAsync("bob joined (2 participants)", new() { Timeout = Timeout }).Within(Wait);

        // Alice talks in north, then goes south (the form) and talks there: her second message reaches bob and carol
        // and her first, sent earlier on the same connection, reached neither.
        await alice.Locator("#message").FillAsync("still north", new() { Timeout = Timeout }).Within(Wait);
        await alice.Locator("#message").PressAsync("Enter", new() { Timeout = Timeout }).Within(Wait);
        await alice.Locator("#room-name").FillAsync("South", new() { Timeout = Timeout }).Within(Wait);
        await alice.Locator("#room-form button").ClickAsync(new() { Timeout = Timeout }).Within(Wait);
        await Expect(alice.Locator("#users li")).ToHaveTextAsync(["alice", "bob", "carol"], new() { Timeout = Timeout }).Within(Wait);
        await alice.Locator("#message").FillAsync("now south", new() { Timeout = Timeout }).Within(Wait);
        await alice.Locator("#message").PressAsync("Enter", new() { Timeout = Timeout }).Within(Wait);
        foreach (var page in new[] { bob, carol })
        {
            await Expect(page.Locator("#messages li.message")).ToHaveTextAsync(["alice now south"], new() { Timeout = Timeout }).Within(Wait);
            await Expect(page.Locator("#participants")).ToHaveTextAsync("3 participants", new() { Timeout = Timeout }).Within(Wait);
        }
        await Expect(carol.Locator("#rooms li")).ToHaveTextAsync(["#south 3"], new() { Timeout = Timeout }).Within(Wait);
    }

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private Task<IBrowserContext> NewContextAsync() => _chromium.Browser.NewContextAsync(new() { BaseURL = _chat.Url }).WaitAsync(Wait);

    private static async Task<IPage> OpenAsync(IBrowserContext context, string path)
    {
        var page = await context.NewPageAsync().WaitAsync(Wait);
        var errors = new List<string>();
        page.PageError += (_, error) =>
        {
            lock (errors)
            {
                errors.Add(error);
            }
        };
        var response = await page.GotoAsync(path, new() { Timeout = Timeout }).WaitAsync(Wait);
        Assert.That(response?.Status, Is.EqualTo(200), path);
        await page.WaitForFunctionAsync("() => typeof io === 'function'", null, new() { Timeout = Timeout }).WaitAsync(Wait);
        lock (errors)
        {
            Assert.That(errors, Is.Empty, "script errors on " + path);
        }
        return page;
    }

    private static async Task<IPage> LogInAsync(IBrowserContext context, string path, string nickname, string room)
    {
        var page = await OpenAsync(context, path);
        await page.Locator("#nickname").FillAsync(nickname, new() { Timeout = Timeout }).Within(Wait);
        await page.Locator("#login-room").FillAsync(room, new() { Timeout = Timeout }).Within(Wait);
        await page.Locator("#login-room").PressAsync("Enter", new() { Timeout = Timeout }).Within(Wait);
        await Expect(page.Locator("#chat")).ToBeVisibleAsync(new() { Timeout = Timeout }).Within(Wait);
        await Expect(page.Locator("#room-title")).ToHaveTextAsync(room, new() { Timeout = Timeout }).Within(Wait);
        return page;
    }
}
