//! Kubernetes' CEL libraries (as the API server enables them for CRD rules), checked on
//! examples of the kind their documentation gives.

use meshlint_cel::{compile, NoHost, Scope};

fn truth(expr: &str) {
    let program = compile(expr, &[]).unwrap_or_else(|e| panic!("{expr}: {e}"));
    let mut scope = Scope::new();
    let got = program.eval(&mut scope, &NoHost);
    assert_eq!(
        got.as_ref().map(|v| format!("{v:?}")),
        Ok("true".to_string()),
        "{expr}"
    );
}

fn fails(expr: &str) {
    let program = compile(expr, &[]).unwrap_or_else(|e| panic!("{expr}: {e}"));
    let mut scope = Scope::new();
    assert!(program.eval(&mut scope, &NoHost).is_err(), "{expr}");
}

#[test]
fn urls() {
    truth("url('https://example.com:80/').getHost() == 'example.com:80'");
    truth("url('https://example.com/path').getScheme() == 'https'");
    truth("url('https://example.com/').getHostname() == 'example.com'");
    truth("url('https://[::1]:80/').getHostname() == '::1'");
    truth("url('https://[::1]:80/').getHost() == '[::1]:80'");
    truth("url('https://example.com:80/').getPort() == '80'");
    truth("url('https://example.com/').getPort() == ''");
    truth("url('https://example.com/a/b').getEscapedPath() == '/a/b'");
    truth("url('/absolute/path').getScheme() == ''");
    truth("url('https://example.com/?k=a&k=b&j=c').getQuery() == {'k': ['a', 'b'], 'j': ['c']}");
    truth("isURL('https://example.com/')");
    truth("isURL('/path')");
    truth("!isURL('example.com')");
    truth("!isURL('not a url')");
    truth("type(url('https://x.io/')) == type(url('/y'))");
    fails("url('example.com')");
    fails("url('')");
}

#[test]
fn regex() {
    truth("'abc 123'.find('[0-9]+') == '123'");
    truth("'abc'.find('[0-9]+') == ''");
    truth("'123 abc 456'.findAll('[0-9]+') == ['123', '456']");
    truth("'123 abc 456'.findAll('[0-9]+', 1) == ['123']");
    truth("'123 abc 456'.findAll('xyz') == []");
    fails("'abc'.find('[')");
}

#[test]
fn lists() {
    truth("[1, 2, 3].indexOf(2) == 1");
    truth("[1, 2, 3].indexOf(4) == -1");
    truth("[1, 2, 2, 3].lastIndexOf(2) == 2");
    truth("[1, 2, 3].sum() == 6");
    truth("[1.5, 2.5].sum() == 4.0");
    truth("[].sum() == 0");
    truth("[3, 1, 2].min() == 1");
    truth("[3, 1, 2].max() == 3");
    truth("['a', 'b'].isSorted()");
    truth("![2, 1].isSorted()");
    truth("[].isSorted()");
    fails("[].min()");
    fails("[1, 'a'].sum()");
}

#[test]
fn ip_and_cidr() {
    truth("isIP('10.0.0.1') && !isIP('10.0.0.256')");
    truth("ip('10.0.0.1').family() == 4 && ip('fd00::1').family() == 6");
    truth("ip('127.0.0.1').isLoopback()");
    truth("cidr('10.0.0.0/8').containsIP('10.1.2.3')");
    truth("!cidr('10.0.0.0/8').containsIP(ip('11.0.0.1'))");
    truth("cidr('10.0.0.0/8').containsCIDR('10.1.0.0/16')");
    truth("cidr('10.1.2.3/8').masked() == cidr('10.0.0.0/8')");
    truth("cidr('10.0.0.0/8').prefixLength() == 8");
    truth("string(cidr('fd00::/8').ip()) == 'fd00::'");
    truth("type(ip('::1')) == net.IP");
    fails("ip('::ffff:10.0.0.1')");
    fails("cidr('10.0.0.0/33')");
}

#[test]
fn quantities() {
    truth("isQuantity('1.5Gi') && isQuantity('100m') && isQuantity('2e3')");
    truth("!isQuantity('1.5GB') && !isQuantity('') && !isQuantity('Gi')");
    truth("quantity('1Gi').asInteger() == 1073741824");
    truth("quantity('1.5k').asInteger() == 1500");
    truth("quantity('200m').asApproximateFloat() == 0.2");
    truth("!quantity('200m').isInteger() && quantity('2').isInteger()");
    truth("quantity('50k').add(quantity('20k')) == quantity('70k')");
    truth("quantity('50k').add(20) == quantity('50020')");
    truth("quantity('50k').sub(quantity('20k')).isLessThan(quantity('31k'))");
    truth("quantity('1Mi').isGreaterThan(quantity('1M'))");
    truth("quantity('1000m').compareTo(quantity('1')) == 0");
    truth("quantity('-1').sign() == -1 && quantity('0').sign() == 0");
    fails("quantity('200m').asInteger()");
    fails("quantity('1.5GB')");
}
