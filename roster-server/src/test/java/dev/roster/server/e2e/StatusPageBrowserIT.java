package dev.roster.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The status page in headless Chromium (Debian's {@code chromium} and {@code chromium-driver}, driven
 * by Selenium's client; nothing is downloaded) against the real server jar seeded with 10,000
 * accounts: a wrong token is refused, the pool and buckets show, an account disabled through the
 * admin API turns unschedulable on the page without a reload, a dead letter is retried from the page,
 * and hostile account names render as text. Saves a screenshot of each panel to {@code
 * docs/screenshots} and measures first paint (not asserted; docs/performance.md records it).
 * Runs with {@code -Pbrowser}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StatusPageBrowserIT {
    static final String ADMIN = "page-admin-token-0123456789";
    static final String XSS_NAME = "<img src=x onerror=\"window.__xss=1\">special-xss";
    static final int SEEDED = 10_000;
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    static Path dir;

    static ServerJar server;
    static String base;
    static WebDriver driver;
    static WebDriverWait wait;
    static long victim;
    static long groupAlpha;

    @BeforeAll
    static void start() throws Exception {
        Files.writeString(dir.resolve("roster.yaml"), """
                server:
                  port: 0
                  admin_token: %s
                embedded:
                  data_dir: ./data
                gateway:
                  scheduling:
                    outbox_poll_interval_seconds: 1
                """.formatted(ADMIN));
        server = ServerJar.start(dir, Map.of(), "serve");
        base = server.awaitListening(Duration.ofMinutes(2));
        await().atMost(Duration.ofSeconds(60))
                .until(() -> send("GET", "/health/ready", null).statusCode() == 200);
        seed();
        driver = chrome();
        // Panels re-render when their data changes; an element found just before is then stale.
        wait = new WebDriverWait(driver, WAIT);
        wait.ignoring(StaleElementReferenceException.class);
    }

    static void seed() throws Exception {
        groupAlpha = ok(send("POST", "/admin/groups", "{\"name\":\"alpha\",\"platform\":\"anthropic\"}"))
                .get("id")
                .asLong();
        long beta = ok(send("POST", "/admin/groups", "{\"name\":\"beta <i>team</i>\",\"platform\":\"openai\"}"))
                .get("id")
                .asLong();
        // 10,000 accounts in one statement, as a bulk import would write them; some blocked.
        try (Connection c = jdbc();
                Statement st = c.createStatement()) {
            st.execute("INSERT INTO accounts (name, platform, type, priority, concurrency, schedulable,"
                    + " rate_limit_reset_at, overload_until)"
                    + " SELECT 'acct-' || lpad(i::text, 5, '0'), CASE WHEN i % 3 = 0 THEN 'openai' ELSE 'anthropic'"
                    + " END, 'oauth', 1 + i % 50, 1 + i % 5, i % 23 <> 0,"
                    + " CASE WHEN i % 17 = 0 THEN now() + make_interval(secs => 60 + i % 900) END,"
                    + " CASE WHEN i % 29 = 0 THEN now() + make_interval(secs => 30 + i % 300) END"
                    + " FROM generate_series(1, " + SEEDED + ") i");
            st.execute("INSERT INTO account_groups (account_id, group_id, priority)"
                    + " SELECT id, CASE WHEN platform = 'openai' THEN " + beta + " ELSE " + groupAlpha
                    + " END, 1 + id % 3 FROM accounts WHERE name LIKE 'acct-%'");
        }
        Instant now = Instant.now();
        List<String> special = new ArrayList<>();
        special.add(account("special-victim", "anthropic", null));
        special.add(account(XSS_NAME, "anthropic", null));
        special.add(account(
                "special-rate-limited", "anthropic", "\"rate_limit_reset_at\":\"" + now.plusSeconds(600) + "\""));
        special.add(account("special-overloaded", "openai", "\"overload_until\":\"" + now.plusSeconds(90) + "\""));
        special.add(account(
                "special-temp-unschedulable",
                "openai",
                "\"temp_unschedulable_until\":\"" + now.plusSeconds(1800) + "\""));
        special.add(account(
                "special-expired",
                "anthropic",
                "\"expires_at\":\"" + now.minusSeconds(3600) + "\",\"auto_pause_on_expired\":true"));
        special.add(account("special-disabled", "openai", "\"schedulable\":false"));
        victim = Long.parseLong(special.get(0));
        await().atMost(Duration.ofMinutes(2))
                .until(() ->
                        ok(send("GET", "/admin/outbox", null)).get("pending").asLong() == 0);
        // some traffic, so last-used and the hot-path figures are not empty
        for (int i = 0; i < 20; i++) {
            send("GET", "/v1/schedulable?group=" + groupAlpha + "&platform=anthropic", null);
        }
        for (String id : special.subList(0, 3)) {
            send("POST", "/v1/accounts/" + id + "/used", null);
        }
    }

    static String account(String name, String platform, String extra) throws Exception {
        ObjectNode body = JSON.createObjectNode()
                .put("name", name)
                .put("platform", platform)
                .put("type", "apikey")
                .put("concurrency", 4);
        String json = body.toString();
        if (extra != null) {
            json = json.substring(0, json.length() - 1) + "," + extra + "}";
        }
        JsonNode a = ok(send("POST", "/admin/accounts", json));
        String id = a.get("id").asText();
        if (platform.equals("anthropic")) {
            ok(send("PUT", "/admin/accounts/" + id + "/groups", "{\"groups\":[{\"id\":" + groupAlpha + "}]}"));
        }
        return id;
    }

    static ChromeDriver chrome() throws Exception {
        Path profile = Files.createDirectories(dir.resolve("chromium-profile"));
        ChromeOptions o = new ChromeOptions();
        o.setBinary("/usr/bin/chromium");
        // As root on a closed network: no sandbox, and no background connections Chromium would make.
        o.addArguments(
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--window-size=1440,1000",
                "--user-data-dir=" + profile);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File("/usr/bin/chromedriver"))
                .usingAnyFreePort()
                .withLogFile(dir.resolve("chromedriver.log").toFile())
                .build();
        return new ChromeDriver(service, o);
    }

    @AfterAll
    static void stop() {
        if (driver != null) {
            driver.quit();
        }
        if (server != null) {
            server.close();
        }
    }

    // ---- tests -----------------------------------------------------------------------------------

    @Test
    @Order(1)
    void wrong_token_is_rejected() throws Exception {
        driver.get(base + "/");
        WebElement token = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token")));
        screenshot(driver.findElement(By.id("login-panel")), "login");
        token.sendKeys("not-the-admin-token");
        driver.findElement(By.id("login-submit")).click();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("login-error"), "rejected"));
        assertThat(driver.findElement(By.id("app")).isDisplayed()).isFalse();
        assertThat(js("return sessionStorage.getItem('roster.admin_token')")).isNull();
    }

    @Test
    @Order(2)
    void logs_in_and_shows_pool_buckets_health_and_replay() throws Exception {
        logIn();
        wait.until(d -> text("pool-count").startsWith(String.format(Locale.ROOT, "%,d", SEEDED + 7)));
        assertThat(driver.findElements(By.cssSelector("#pool-rows tr[data-id]")))
                .hasSize(50);
        assertThat(text("pool-page")).isEqualTo("page 1 of " + (SEEDED + 7 + 49) / 50);
        // The token never appears in the page.
        assertThat(driver.getPageSource()).doesNotContain(ADMIN);
        wait.until(d ->
                !d.findElements(By.cssSelector("#bucket-rows tr[data-bucket]")).isEmpty());
        assertThat(text("bucket-rows")).contains(groupAlpha + ":anthropic:");
        wait.until(d -> text("health-cards").contains("PostgreSQL")
                && text("health-cards").contains("up"));
        assertThat(text("health-cards"))
                .contains("Redis")
                .contains("near-cache hit ratio")
                .contains("fallback rate");
        wait.until(
                d -> !d.findElements(By.cssSelector("#replay-svg path.series")).isEmpty());
        wait.until(d -> d.findElements(By.cssSelector("#replay-svg line[data-threshold]")).stream()
                .map(e -> e.getAttribute("data-threshold"))
                .toList()
                .containsAll(List.of("warn", "rebuild", "backlog rebuild")));

        // paging: the next page starts after the first 50 ids
        String firstId = wait.until(
                d -> d.findElement(By.cssSelector("#pool-rows tr[data-id]")).getAttribute("data-id"));
        driver.findElement(By.id("pool-next")).click();
        wait.until(d -> text("pool-page").startsWith("page 2 "));
        wait.until(d -> !firstId.equals(
                d.findElement(By.cssSelector("#pool-rows tr[data-id]")).getAttribute("data-id")));
        driver.findElement(By.id("pool-prev")).click();
        wait.until(d -> text("pool-page").startsWith("page 1 "));

        // filters: state and platform narrow the count
        new Select(driver.findElement(By.id("pool-state"))).selectByValue("rate_limited");
        wait.until(d -> d.findElements(By.cssSelector("#pool-rows tr[data-id]")).stream()
                .allMatch(r -> r.getAttribute("data-effective").equals("false")));
        wait.until(d -> !d.findElements(By.cssSelector("#pool-rows .countdown")).isEmpty());
        new Select(driver.findElement(By.id("pool-state"))).selectByValue("");
    }

    @Test
    @Order(3)
    void hostile_names_render_as_text() throws Exception {
        search("special-xss");
        wait.until(d -> d.findElements(By.cssSelector("#pool-rows tr[data-id]")).size() == 1);
        wait.until(d -> d.findElement(By.cssSelector("#pool-rows tr[data-id] td.name"))
                .getText()
                .equals(XSS_NAME));
        assertThat(driver.findElements(By.cssSelector("#pool-rows img"))).isEmpty();
        assertThat(js("return window.__xss === undefined")).isEqualTo(true);
        // a group name with markup in the filter list is text too
        assertThat(driver.findElements(By.cssSelector("#pool-group i"))).isEmpty();
    }

    @Test
    @Order(4)
    void disabling_an_account_shows_without_reload() throws Exception {
        search("special-");
        wait.until(d -> d.findElements(By.cssSelector("#pool-rows tr[data-id]")).size() == 7);
        screenshot(driver.findElement(By.id("pool")), "pool");
        By row = By.cssSelector("#pool-rows tr[data-id='" + victim + "']");
        wait.until(d -> d.findElement(row).getAttribute("data-effective").equals("true"));
        js("window.__sameDocument = 'yes'");

        // Only the switch: a merge patch (a PUT must name every field).
        ok(send("PATCH", "/admin/accounts/" + victim, "{\"schedulable\":false}"));

        wait.until(d -> d.findElement(row).getAttribute("data-effective").equals("false")
                && d.findElement(row)
                        .findElement(By.cssSelector("td.sched"))
                        .getText()
                        .contains("disabled"));
        assertThat(js("return window.__sameDocument")).isEqualTo("yes");
    }

    @Test
    @Order(5)
    void dead_letter_is_retried_from_the_page() throws Exception {
        try (Connection c = jdbc();
                Statement st = c.createStatement()) {
            st.execute("INSERT INTO scheduler_outbox_dead_letter (event_id, event_type, account_id, error, attempts)"
                    + " VALUES (777001, 'account_changed', " + victim
                    + ", 'poison payload: <script>window.__xss=2</script>', 5)");
        }
        By row = By.cssSelector("#dead-rows tr[data-event='777001']");
        wait.until(d -> d.findElement(row).getText().contains("<script>window.__xss=2</script>"));
        screenshot(driver.findElement(By.id("dead")), "dead-letters");
        click(By.cssSelector("#dead-rows tr[data-event='777001'] button.retry"));
        wait.until(ExpectedConditions.invisibilityOfElementLocated(row));
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("dead-msg"), "777001 requeued"));
        assertThat(send("GET", "/admin/outbox/dead-letters", null).body()).doesNotContain("777001");
        assertThat(js("return window.__xss === undefined")).isEqualTo(true);
    }

    @Test
    @Order(6)
    void audit_and_rebuild_buttons() throws Exception {
        driver.findElement(By.id("run-audit")).click();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("buckets-msg"), "buckets checked"));
        wait.until(d -> text("buckets-audit").contains("latest audit"));
        wait.until(d ->
                !d.findElements(By.cssSelector("#bucket-rows td.drift .pill")).isEmpty());
        String bucket = groupAlpha + ":anthropic:single";
        click(By.cssSelector("#bucket-rows tr[data-bucket='" + bucket + "'] button.rebuild"));
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("buckets-msg"), bucket + ": rebuilt"));
        screenshot(driver.findElement(By.id("buckets")), "buckets");
        screenshot(driver.findElement(By.id("health")), "health");
        screenshot(driver.findElement(By.id("replay")), "replay");
    }

    @Test
    @Order(7)
    void first_paint_with_ten_thousand_accounts_is_measured() throws Exception {
        // A fresh load of the page with the token already in the tab's session, three times.
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            driver.navigate().refresh();
            wait.until(d -> Boolean.TRUE.equals(((JavascriptExecutor) d)
                    .executeScript("return performance.getEntriesByName('roster:pool-rendered').length > 0")));
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) js("""
                    const fcp = performance.getEntriesByType('paint').find(e => e.name === 'first-contentful-paint');
                    const nav = performance.getEntriesByType('navigation')[0];
                    const pool = performance.getEntriesByName('roster:pool-rendered')[0];
                    return {fcp: fcp ? fcp.startTime : -1, dcl: nav.domContentLoadedEventEnd,
                            pool: pool.startTime, rows: document.querySelectorAll('#pool-rows tr[data-id]').length};
                    """);
            String line = String.format(
                    Locale.ROOT,
                    "run %d: first-contentful-paint %.0f ms, DOMContentLoaded %.0f ms, first pool page (%s rows of %,d"
                            + " accounts) rendered %.0f ms",
                    i + 1,
                    ((Number) m.get("fcp")).doubleValue(),
                    ((Number) m.get("dcl")).doubleValue(),
                    m.get("rows"),
                    SEEDED + 7,
                    ((Number) m.get("pool")).doubleValue());
            lines.add(line);
            System.out.println("status page: " + line);
        }
        lines.add("cores: " + Runtime.getRuntime().availableProcessors() + ", chromium headless, server on loopback");
        String out = System.getProperty("roster.performance");
        if (out != null) {
            Files.write(Path.of(out), lines);
        }
        assertThat(lines).hasSize(4);
    }

    // ---- helpers ---------------------------------------------------------------------------------

    static void logIn() {
        driver.get(base + "/");
        WebElement token = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token")));
        token.sendKeys(ADMIN);
        driver.findElement(By.id("login-submit")).click();
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("pool")));
        assertThat(js("return sessionStorage.getItem('roster.admin_token')")).isEqualTo(ADMIN);
    }

    /** Clicks what {@code by} finds, again if a re-render replaced it in between. */
    static void click(By by) {
        wait.until(d -> {
            d.findElement(by).click();
            return true;
        });
    }

    static void search(String q) {
        WebElement box = driver.findElement(By.id("pool-q"));
        box.clear();
        box.sendKeys(q);
    }

    static String text(String id) {
        return driver.findElement(By.id(id)).getText();
    }

    static Object js(String script) {
        return ((JavascriptExecutor) driver).executeScript(script);
    }

    static void screenshot(WebElement e, String name) throws Exception {
        String d = System.getProperty("roster.screenshots");
        Path folder = d != null ? Path.of(d) : Path.of("target", "screenshots");
        Files.createDirectories(folder);
        ((JavascriptExecutor) driver).executeScript("arguments[0].scrollIntoView(true)", e);
        Files.write(folder.resolve(name + ".png"), e.getScreenshotAs(OutputType.BYTES));
    }

    static Connection jdbc() throws Exception {
        return DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + server.postgresPort() + "/postgres", "postgres", "");
    }

    static HttpResponse<String> send(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + ADMIN);
        b.method(
                method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode ok(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isBetween(200, 299);
        return JSON.readTree(r.body());
    }
}
